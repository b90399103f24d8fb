// Acceptance 1 and 2 of issue 4, the citizen's side: open the chat, solve
// the challenge, write; see the caseworker's answer live; reload and find
// the same case with its history; send and receive a file; download the
// transcript; see the case closed. Everything with the keyboard only, and
// axe-core on every state on the way.
import { readFile } from 'node:fs/promises';
import { run, launch, step, log, checkA11y, tabTo } from '../lib/harness.mjs';

const QUESTION = 'Wie stelle ich einen Bauantrag? <script>alert("x")</script> javascript:alert(1)';
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8ffff3f0005fe02fea7358184' +
  '0000000049454e44ae426082', 'hex');

// messages returns the conversation as the page shows it.
function messages(page) {
  return page.$$eval('#message-list li.message', (lis) => lis.map((li) => ({
    seq: li.dataset.seq || '', from: li.dataset.from || '', pending: li.classList.contains('pending'),
    body: li.querySelector('.body')?.textContent ?? '',
    attachment: li.querySelector('a.attachment')?.getAttribute('href') ?? '',
  })));
}

async function waitForMessage(page, from, text, timeout = 30000) {
  await page.waitForFunction(([from, text]) => [...document.querySelectorAll('#message-list li.message')]
    .some((li) => li.dataset.from === from && !li.classList.contains('pending') &&
      (li.querySelector('.body')?.textContent ?? '').includes(text)), [from, text], { timeout });
}

// a11y runs axe-core (it throws on serious or critical violations) and
// logs what it checked.
async function a11y(page, label) {
  const r = await checkA11y(page, label);
  log(`axe "${label}": ${r.passes} rules passed, ${r.violations.length} minor violation(s), no serious or critical`);
}

run(async () => {
  const browser = await launch();
  const context = await browser.newContext({ acceptDownloads: true, locale: 'de-DE' });
  const page = await context.newPage();
  page.on('dialog', (d) => { throw new Error(`a dialog opened: ${d.message()}`); });
  const { url } = await step('ready');

  // Entry.
  await page.goto(url);
  await page.waitForSelector('#entry:not([hidden])');
  const privacy = await page.getAttribute('#privacy-link', 'href');
  if (!privacy || !privacy.startsWith('https://')) throw new Error(`privacy link is ${privacy}`);
  await a11y(page, 'entry');
  await tabTo(page, '#name');
  await page.keyboard.type('Maria');
  await tabTo(page, '#question');
  await page.keyboard.type(QUESTION);
  await tabTo(page, '#submit');
  const started = Date.now();
  await page.keyboard.press('Enter');
  await page.waitForSelector('#chat:not([hidden])', { timeout: 60000 });
  const openMs = Date.now() - started;
  await waitForMessage(page, 'citizen', 'Bauantrag');
  const reference = (await page.textContent('#case-reference')).trim();
  log(`case ${reference} opened in ${openMs} ms (proof of work included)`);
  const focused = await page.evaluate(() => document.activeElement?.id);
  if (focused !== 'message-input') throw new Error(`after opening, focus is on ${focused}, not the message input`);
  await a11y(page, 'chat queued');

  // The caseworker claims and answers.
  await step('opened', { reference, open_ms: openMs });
  await waitForMessage(page, 'staff', 'Guten Tag, hier ist das Bauamt.');
  await page.waitForFunction(() => !document.querySelector('#case-status').textContent.includes('wartet'));
  const shown = await messages(page);
  const mine = shown.find((m) => m.from === 'citizen');
  if (mine.body !== QUESTION) throw new Error(`the question shows as ${JSON.stringify(mine.body)}`);
  if (await page.$('#message-list script')) throw new Error('a script element got into the conversation');

  // A message that looks like a command, typed and sent with Enter.
  await tabTo(page, '#message-input');
  await page.keyboard.type('!rathaus close');
  await page.keyboard.press('Enter');
  await waitForMessage(page, 'citizen', '!rathaus close');

  // A file from the citizen. The control is reached with the keyboard; the
  // file dialog belongs to the operating system (headless Chromium opens
  // none), so the file is set as that dialog would set it.
  await tabTo(page, '#attach-input');
  await page.setInputFiles('#attach-input', { name: 'Lageplan.png', mimeType: 'image/png', buffer: PNG });
  await waitForMessage(page, 'citizen', 'Anhang-1.png');
  await a11y(page, 'chat active');
  await step('sent');

  // A file from the caseworker.
  await waitForMessage(page, 'staff', 'Merkblatt.pdf');
  const pdf = (await messages(page)).find((m) => m.body.includes('Merkblatt.pdf') && m.attachment);
  if (!pdf) throw new Error('the caseworker\'s file has no link');
  const fetched = await page.evaluate(async (href) => {
    const r = await fetch(href);
    return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
  }, pdf.attachment);
  if (fetched.status !== 200 || !fetched.text.startsWith('%PDF')) throw new Error(`the file: ${JSON.stringify(fetched).slice(0, 200)}`);

  // The caseworker deleted one message and corrected another: the open
  // page shows both changes in place.
  await page.waitForFunction(() => [...document.querySelectorAll('#message-list li.message.redacted')]
    .some((li) => li.querySelector('.body')?.textContent === 'Diese Nachricht wurde gelöscht.'), null, { timeout: 30000 });
  await page.waitForFunction(() => [...document.querySelectorAll('#message-list li.message')]
    .some((li) => li.querySelector('.body')?.textContent === 'Bitte kommen Sie am Dienstag.' && li.querySelector('.edited')?.textContent === '(bearbeitet)'),
  null, { timeout: 30000 });
  const text = await page.textContent('#message-list');
  for (const gone of ['Nachbarakte', 'Diensttag']) {
    if (text.includes(gone)) throw new Error(`the page still shows ${JSON.stringify(gone)}`);
  }
  await a11y(page, 'chat with a deleted and an edited message');

  // Reload: the same case with the whole history.
  const before = (await messages(page)).filter((m) => m.seq).map((m) => `${m.seq}:${m.from}:${m.body}`);
  await page.reload();
  await page.waitForSelector('#chat:not([hidden])');
  await page.waitForFunction((n) => document.querySelectorAll('#message-list li.message[data-seq]').length >= n, before.length);
  const after = (await messages(page)).filter((m) => m.seq).map((m) => `${m.seq}:${m.from}:${m.body}`);
  if (JSON.stringify(after) !== JSON.stringify(before)) {
    throw new Error(`history after reload differs:\nbefore ${JSON.stringify(before)}\nafter  ${JSON.stringify(after)}`);
  }
  if ((await page.textContent('#case-reference')).trim() !== reference) throw new Error('another case after reload');
  if (await page.$$eval('#message-list .edited', (n) => n.length) !== 1) throw new Error('the edit mark is gone after the reload');

  // The transcript, downloaded with the keyboard.
  await tabTo(page, '#transcript-link');
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  const transcript = await readFile(await download.path(), 'utf8');
  for (const want of [reference, 'Sie: Wie stelle ich einen Bauantrag?', 'Bauamt: Guten Tag, hier ist das Bauamt.', 'Merkblatt.pdf']) {
    if (!transcript.includes(want)) throw new Error(`transcript lacks ${JSON.stringify(want)}:\n${transcript}`);
  }
  log(`transcript ${download.suggestedFilename()} (${transcript.length} characters)`);

  // The caseworker closes the case; the citizen sees it.
  await step('downloaded');
  await page.waitForSelector('#closed-notice:not([hidden])', { timeout: 30000 });
  if (await page.isVisible('#message-input')) throw new Error('the composer is still there after the case closed');
  await a11y(page, 'closed');
  await step('closed');
});
