// Helpers of the citizen's side shared by the browser end-to-end scripts.

// until polls check (true, or a string saying what is still missing) every
// 100 ms until it is true, and fails with the last answer after timeoutMs.
export async function until(what, timeoutMs, check) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await check();
    if (state === true) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// watchDialogs records every alert/confirm/prompt the page opens: a
// message body must never run as script.
export function watchDialogs(page) {
  const opened = [];
  page.on('dialog', (d) => {
    opened.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return opened;
}

export async function waitForStatus(page, text) {
  await until(`the case status "${text}"`, 30000, async () => {
    const now = (await page.textContent('#case-status')).trim();
    return now === text || `#case-status says "${now}"`;
  });
}

// send types body into the composer and presses Enter, as a citizen does.
export async function send(page, body) {
  await page.focus('#message-input');
  await page.keyboard.type(body);
  await page.keyboard.press('Enter');
}

// history lists the messages in the page's log, pending ones included.
export function history(page) {
  return page.evaluate(() => [...document.querySelectorAll('#message-list li.message')].map((li) => ({
    seq: li.dataset.seq ? Number(li.dataset.seq) : null,
    from: li.dataset.from,
    txn: li.dataset.txn || null,
    image: !!li.querySelector('img'),
    pending: li.classList.contains('pending'),
    body: (li.querySelector('.body')?.textContent) ?? '',
  })));
}
