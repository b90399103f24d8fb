// The citizen of TestBrowserChatSurvivesKill9 (cmd/rathaus): opens a case
// with the real page (proof of work in the browser), then chats through the
// composer while the Go side kills rathaus with SIGKILL and restarts it.
// The page must say that the connection is interrupted, come back by
// itself, and in the end show every message exactly once, also after a
// reload.
import { run, launch, step, log, allowConsoleErrors } from '../lib/harness.mjs';
import { until, watchDialogs, waitForStatus, send, history } from './citizen.mjs';

const DISCONNECTED = 'Verbindung unterbrochen – wird wiederhergestellt …';
const RECONNECTED = 'Verbindung wiederhergestellt.';

run(async () => {
  const browser = await launch();
  // A citizen in Germany: the browser asks for German.
  const page = await browser.newPage({ locale: 'de-DE' });
  // While rathaus is down the page's requests fail, and Chromium reports
  // every failed request as a console error; the page retries them.
  allowNetworkErrors(page);
  const dialogs = watchDialogs(page);
  // Every POST of a message, retries included: the Go side checks that the
  // page backs off while rathaus is down instead of hammering it.
  let messagePosts = 0;
  page.on('request', (req) => {
    if (req.method() === 'POST' && /\/api\/guest\/v1\/cases\/[^/]+\/messages$/.test(req.url())) messagePosts++;
  });

  const { url, question } = await step('ready');
  await page.goto(url);
  const reference = await openCase(page, { question });
  await watchConnection(page);
  await step('opened', { reference });
  await waitForStatus(page, 'in Bearbeitung');

  // 1. The Go side holds rathaus's sends to the homeserver: this message
  // is created in the room, but rathaus dies before it hears so.
  const first = await step('active');
  await send(page, first.body);
  const second = await step('sent-held');
  await until('the page to show the connection as interrupted', 20000, async () =>
    (await connectionLog(page)).includes(DISCONNECTED) || `connection log ${JSON.stringify(await connectionLog(page))}`);
  // Written while rathaus is down: it waits in the outbox.
  await send(page, second.body);
  const want1 = await step('written-while-down');
  await until('both messages of the citizen and of staff, each once', 40000, async () =>
    checkExactlyOnce(await history(page), want1));
  await until('the page to show the connection as restored', 20000, async () =>
    (await connectionLog(page)).includes(RECONNECTED) || `connection log ${JSON.stringify(await connectionLog(page))}`);

  // 2. A burst through the composer, one message every gapMs; the Go side
  // kills rathaus in the middle of it.
  const { burst, gapMs } = await step('recovered');
  const typing = (async () => {
    for (const body of burst) {
      await send(page, body);
      await new Promise((r) => setTimeout(r, gapMs)); // the citizen's pace, not a wait for a result
    }
  })();
  const want = await step('bursting');
  await typing;
  await until('every message of the citizen and of staff, each once, none pending', 40000, async () =>
    checkExactlyOnce(await history(page), want));
  const seen = await connectionLog(page);
  const interruptions = seen.filter((s) => s === DISCONNECTED).length;
  const recoveries = seen.filter((s) => s === RECONNECTED).length;
  if (interruptions < 2 || recoveries < 2) {
    throw new Error(`the page should have shown two interruptions and two recoveries, saw ${JSON.stringify(seen)}`);
  }
  await until('the interruption notice to be gone', 20000, async () => {
    const now = await page.textContent('#connection-status');
    return now !== DISCONNECTED || `#connection-status still says ${now}`;
  });
  const before = await history(page);

  // A reload shows the same conversation, from the server alone.
  await page.reload();
  await page.waitForSelector('#chat:not([hidden])');
  await until('the history after the reload', 20000, async () => checkExactlyOnce(await history(page), want));
  const after = await history(page);
  const strip = (h) => JSON.stringify(h.map(({ seq, from, body }) => ({ seq, from, body })));
  if (strip(after) !== strip(before)) {
    throw new Error(`the history changed with the reload:\nbefore ${strip(before)}\nafter  ${strip(after)}`);
  }
  if (dialogs.length > 0) throw new Error(`the page opened dialogs: ${JSON.stringify(dialogs)}`);
  log(`${after.length} messages, connection log ${JSON.stringify(seen)}`);
  await step('done', { history: after, connection: seen, messagePosts });
});

// ---- the citizen's helpers ----------------------------------------------

function allowNetworkErrors(page) {
  allowConsoleErrors(page,
    /^Failed to load resource: net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE|INCOMPLETE_CHUNKED_ENCODING|CONNECTION_CLOSED)/,
    /^Failed to load resource: the server responded with a status of 503/);
}

// watchConnection records every text #connection-status shows; the notes
// come and go, so polling the element could miss one.
async function watchConnection(page) {
  await page.evaluate(() => {
    const node = document.getElementById('connection-status');
    window.__connectionLog = [];
    new MutationObserver(() => {
      const text = node.textContent.trim();
      if (text) window.__connectionLog.push(text);
    }).observe(node, { childList: true, characterData: true, subtree: true });
  });
}

function connectionLog(page) {
  return page.evaluate(() => window.__connectionLog || []);
}

// openCase writes the question into the entry form and sends it; the page
// solves the proof of work itself. It resolves with the reference.
async function openCase(page, { question }) {
  await page.waitForSelector('#entry:not([hidden])');
  await page.fill('#question', question);
  await page.click('#submit');
  await page.waitForSelector('#chat:not([hidden])', { timeout: 30000 });
  await page.waitForFunction(() => document.getElementById('case-reference').textContent.trim() !== '');
  return (await page.textContent('#case-reference')).trim();
}

// checkExactlyOnce says true if every wanted citizen and staff message is
// in h exactly once and delivered, nothing is pending, and the messages
// come in the order of their seq; otherwise what is wrong.
function checkExactlyOnce(h, { citizen, staff }) {
  const problems = [];
  const pending = h.filter((m) => m.pending).map((m) => m.body);
  if (pending.length) problems.push(`pending: ${JSON.stringify(pending)}`);
  for (const [from, bodies] of [['citizen', citizen], ['staff', staff]]) {
    for (const body of bodies) {
      const n = h.filter((m) => !m.pending && m.from === from && m.body === body).length;
      if (n !== 1) problems.push(`${from} "${body}" ${n} times`);
    }
    const extra = h.filter((m) => m.from === from && !bodies.includes(m.body)).map((m) => m.body);
    if (extra.length) problems.push(`unexpected ${from} messages ${JSON.stringify(extra)}`);
  }
  const seqs = h.filter((m) => !m.pending).map((m) => m.seq);
  if (seqs.some((s, i) => !Number.isInteger(s) || (i > 0 && s <= seqs[i - 1]))) problems.push(`seqs not increasing: ${seqs}`);
  return problems.length === 0 || problems.join('; ');
}
