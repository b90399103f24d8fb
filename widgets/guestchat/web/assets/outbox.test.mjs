import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';

// The page's outbox against a fake fetch: what it does while rathaus is
// down. The browser tests (TestBrowserChatSurvivesKill9) show the whole
// page; these pin the retry rules down.

const storage = new Map();
globalThis.sessionStorage = {
  getItem: (k) => (storage.has(k) ? storage.get(k) : null),
  setItem: (k, v) => storage.set(k, String(v)),
  removeItem: (k) => storage.delete(k),
};

let posts = [];
let answer = null; // (url, init) => Response, or throws
globalThis.fetch = async (url, init) => {
  posts.push({ url: String(url), body: init && init.body, at: performance.now() });
  // A real request takes a turn of the event loop, so a loop that forgets
  // to wait shows up as many posts instead of freezing the test.
  await new Promise((r) => setTimeout(r, 1));
  return answer(url, init);
};
const down = () => { throw new TypeError('Failed to fetch'); };
const ok = () => new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } });

const { createOutbox } = await import('./outbox.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// until polls cond for up to 10 s; the timings of the page are not under
// test here, so a slow machine only makes this slower.
async function until(what, cond) {
  for (let waited = 0; !cond(); waited += 10) {
    if (waited > 10000) throw new Error(`still waiting for ${what}`);
    await sleep(10);
  }
}

function hooks() {
  const seen = { pending: [], retrying: [], sent: [], failed: [] };
  return {
    seen,
    pending: (i) => seen.pending.push(i.body),
    retrying: (i, ms) => seen.retrying.push(ms),
    sent: (i) => seen.sent.push(i.body),
    failed: (i, err) => seen.failed.push(err.code),
  };
}

beforeEach(() => {
  posts = [];
  storage.clear();
});
afterEach(() => {
  answer = null;
});

test('while the server is down, sends back off instead of hammering it', async () => {
  answer = down;
  const h = hooks();
  const box = createOutbox('case-1', h);
  box.sendText('Hallo');
  await until('three tries', () => posts.length >= 3);
  box.stop(true);
  // Each wait is at least what the page announced, and the announced
  // waits grow: 250–500 ms, then 500–1000 ms.
  assert.ok(h.seen.retrying[0] >= 250 && h.seen.retrying[1] >= 500, `waits ${h.seen.retrying}`);
  for (let i = 1; i < 3; i++) {
    const gap = posts[i].at - posts[i - 1].at;
    assert.ok(gap >= h.seen.retrying[i - 1] - 5, `try ${i + 1} came ${gap} ms after the one before, announced ${h.seen.retrying[i - 1]}`);
  }
  assert.deepEqual(h.seen.failed, [], 'a network error is not a final failure');
});

test('a message the stream delivers while its send is failing is not sent again', async () => {
  // The send reached the homeserver, rathaus died before answering, and
  // the stream (after the restart) already shows the message.
  let release;
  const hanging = new Promise((r) => { release = r; });
  answer = async () => {
    await hanging;
    throw new TypeError('Failed to fetch');
  };
  const h = hooks();
  const box = createOutbox('case-2', h);
  const item = box.sendText('Bürger 1');
  await until('the send', () => posts.length === 1);
  assert.equal(box.delivered(item.txn), true);
  release();
  await sleep(600);
  assert.equal(posts.length, 1, 'no retry after delivery');
  assert.equal(box.has(item.txn), false);
  assert.equal(storage.size, 0, 'nothing left in sessionStorage');
});

test('the next message goes out after a delivered one', async () => {
  answer = ok;
  const h = hooks();
  const box = createOutbox('case-3', h);
  const a = box.sendText('eins');
  box.sendText('zwei');
  await until('both sent', () => h.seen.sent.length === 2);
  assert.deepEqual(posts.map((p) => JSON.parse(p.body).body), ['eins', 'zwei']);
  assert.equal(JSON.parse(posts[0].body).txn_id, a.txn);
  assert.deepEqual(h.seen.sent, ['eins', 'zwei']);
});

test('a retry keeps the txn_id, so the server can tell it is the same message', async () => {
  let n = 0;
  answer = () => (n++ === 0 ? down() : ok());
  const box = createOutbox('case-4', hooks());
  box.sendText('Hallo');
  await until('the retry', () => posts.length === 2);
  assert.equal(JSON.parse(posts[0].body).txn_id, JSON.parse(posts[1].body).txn_id);
});

test('a refusal for good drops the item and says why', async () => {
  answer = () => new Response(JSON.stringify({ errcode: 'too_long', error: 'x' }), { status: 413 });
  const h = hooks();
  const box = createOutbox('case-5', h);
  box.sendText('x'.repeat(10));
  await until('the refusal', () => h.seen.failed.length === 1);
  assert.deepEqual(h.seen.failed, ['too_long']);
  assert.equal(posts.length, 1);
});
