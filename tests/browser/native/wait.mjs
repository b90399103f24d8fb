// Waiting in the native staff clients' pages (staffclient.mjs, echost.mjs).

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// until polls fn until it returns something truthy, which it returns;
// after timeout ms it throws, naming what was awaited.
export async function until(fn, timeout, what) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`not within ${timeout} ms: ${what}`);
    await sleep(100);
  }
}
