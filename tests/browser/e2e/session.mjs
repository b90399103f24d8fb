// The citizens of TestBrowserSessionEnds (cmd/rathaus): on a shared
// computer the next person must not read the conversation (issue 12,
// point 5). In German a citizen closes the case: the dialog says that the
// session ends and offers the download first, the closed view says the
// conversation is gone from this browser and shows no dead download link,
// and a reload shows the entry form. In English staff resolve the case and
// the citizen chooses "End session": the entry form says so and nothing of
// the conversation is left on the page. axe checks each new state.
import {
  run, launch, step, log, checkA11y, tabTo, shiftTabTo,
} from '../lib/harness.mjs';
import { until, watchDialogs, waitForStatus } from './citizen.mjs';

const QUESTION_DE = 'Darf ich auf meinem Grundstück eine Gartenhütte bauen?';
const QUESTION_EN = 'May I build a garden shed on my plot?';

run(async () => {
  const browser = await launch();
  const { base } = await step('ready');
  const a11y = [];
  const check = async (page, label) => {
    const r = await checkA11y(page, label);
    a11y.push({ label, passes: r.passes });
  };

  // ---- German: the citizen closes the case --------------------------------
  const deContext = await browser.newContext({ locale: 'de-DE' });
  const de = await deContext.newPage();
  const deDialogs = watchDialogs(de);
  const deRef = await openCase(de, `${base}/chat/bauamt`, QUESTION_DE);

  await tabTo(de, '#close-case');
  await de.keyboard.press('Enter');
  await de.waitForSelector('#close-dialog[open]');
  const dialogText = await de.textContent('#close-dialog-text');
  expectIncludes(dialogText, 'Auch Ihre Sitzung endet', 'the close dialog');
  expectIncludes(dialogText, 'in diesem Browser nicht mehr zu lesen', 'the close dialog');
  expectIncludes(dialogText, 'laden Sie es vorher herunter', 'the close dialog');
  const download = await de.getAttribute('#close-dialog-transcript', 'href');
  if (!/\/api\/guest\/v1\/cases\/[^/]+\/transcript\?lang=de$/.test(download)) throw new Error(`the dialog's download link: ${download}`);
  expectIncludes(await de.textContent('#close-dialog-transcript'), 'Gespräch als Text herunterladen', 'the dialog\'s download link');
  const fetched = await de.evaluate(async (u) => {
    const res = await fetch(u);
    return { status: res.status, text: await res.text() };
  }, download);
  if (fetched.status !== 200) throw new Error(`the dialog's download answered ${fetched.status}`);
  expectIncludes(fetched.text, QUESTION_DE, 'the downloaded conversation');
  await check(de, 'close dialog with download');

  await shiftTabTo(de, '#confirm-close');
  await de.keyboard.press('Enter');
  await until('the closed view', 10000, async () => de.evaluate(() => {
    const notice = document.getElementById('closed-notice');
    return (!notice.hidden && document.activeElement === notice) || `notice hidden ${notice.hidden}, focus on ${document.activeElement.id}`;
  }));
  expectEqual((await de.textContent('#closed-text')).trim(),
    'Sie haben das Gespräch beendet. Ihre Sitzung ist damit auch beendet. Wenn Sie diese Seite schließen oder neu laden, ist das Gespräch in diesem Browser nicht mehr zu lesen.',
    'the closed view');
  for (const id of ['transcript-link', 'closed-transcript-hint', 'end-session', 'end-session-hint']) {
    if (await de.isVisible(`#${id}`)) throw new Error(`#${id} is shown, but the session is gone`);
  }
  await noSessionCookie(deContext, 'after the close');
  await check(de, 'closed by the citizen');

  await de.reload();
  await de.waitForSelector('#entry:not([hidden])');
  if (await de.isVisible('#chat')) throw new Error('the chat is shown after the reload');
  if (await de.isVisible('#entry-session-ended')) throw new Error('a reload is a fresh start, not the end notice');
  await nothingLeft(de, [QUESTION_DE, deRef], 'after the close and a reload');
  await step('closed');

  // ---- English: staff resolve, the citizen ends the session ------------
  const enContext = await browser.newContext({ locale: 'en-GB' });
  const en = await enContext.newPage();
  const enDialogs = watchDialogs(en);
  const enRef = await openCase(en, `${base}/chat/bauamt?lang=en`, QUESTION_EN);
  await step('resolve', { reference: enRef });
  await waitForStatus(en, 'resolved');
  await en.waitForSelector('#closed-notice:not([hidden])');
  expectIncludes(await en.textContent('#closed-text'), 'The team has marked your request as resolved.', 'the resolved view');
  expectEqual((await en.textContent('#closed-transcript-hint')).trim(),
    'If you want to keep the conversation, download it now. It can be read in this browser for a short time only.', 'the download hint');
  expectEqual((await en.textContent('#end-session-hint')).trim(),
    'Are you using a shared or public computer? Then end the session. Afterwards the conversation can no longer be read here.', 'the end hint');
  if (!(await en.isVisible('#transcript-link'))) throw new Error('the download link is gone although the session is still there');
  await check(en, 'resolved, with "End session" (en)');

  await tabTo(en, '#end-session');
  expectEqual((await en.textContent('#end-session')).trim(), 'End session', 'the button');
  await en.keyboard.press('Enter');
  await en.waitForSelector('#entry:not([hidden])');
  await until('the end notice to have focus', 10000, async () => en.evaluate(() => {
    const notice = document.getElementById('entry-session-ended');
    return (!notice.hidden && document.activeElement === notice) || `notice hidden ${notice.hidden}, focus on ${document.activeElement.id}`;
  }));
  expectEqual((await en.textContent('#entry-session-ended')).trim(),
    'Your session has ended. The conversation can no longer be read in this browser.', 'the end notice');
  if (await en.isVisible('#chat')) throw new Error('the chat is still shown');
  await nothingLeft(en, [QUESTION_EN, enRef], 'after "End session"');
  await noSessionCookie(enContext, 'after "End session"');
  await check(en, 'session ended (en)');

  await en.reload();
  await en.waitForSelector('#entry:not([hidden])');
  if (await en.isVisible('#entry-session-ended')) throw new Error('the end notice after a reload');
  await nothingLeft(en, [QUESTION_EN, enRef], 'after "End session" and a reload');

  if (deDialogs.length || enDialogs.length) throw new Error(`the page opened dialogs: ${JSON.stringify([...deDialogs, ...enDialogs])}`);
  log(`axe checked ${a11y.length} states`);
  await step('done', { a11y });
});

// openCase asks question on the page at url and returns the reference.
async function openCase(page, url, question) {
  await page.goto(url);
  await page.waitForSelector('#entry:not([hidden])');
  await page.fill('#question', question);
  await page.click('#submit');
  await page.waitForSelector('#chat:not([hidden])', { timeout: 30000 });
  await until('the question in the log', 30000, async () => {
    const text = await page.textContent('#message-list');
    return text.includes(question) || 'not yet';
  });
  await until('the reference', 10000, async () => (await page.textContent('#case-reference')).trim() !== '' || 'none yet');
  return (await page.textContent('#case-reference')).trim();
}

// nothingLeft fails if any of texts is still on the page: in its markup,
// in a form field, or in the page's storage.
async function nothingLeft(page, texts, when) {
  const left = await page.evaluate((texts) => {
    const fields = [...document.querySelectorAll('input, textarea')].map((f) => f.value).join('\n');
    const stored = JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage });
    const everything = `${document.documentElement.outerHTML}\n${fields}\n${stored}`;
    return texts.filter((s) => everything.includes(s));
  }, texts);
  if (left.length) throw new Error(`${when}, the page still holds ${JSON.stringify(left)}`);
}

// noSessionCookie waits until the answer that ends the session has
// cleared the cookie: the stream's status event may show the closed view
// before that answer arrives.
async function noSessionCookie(context, when) {
  await until(`${when}: the session cookie to be cleared`, 10000, async () => {
    const cookies = (await context.cookies()).filter((c) => c.name.endsWith('rathaus_guest'));
    return cookies.length === 0 || 'the browser still has the session cookie';
  });
}

function expectIncludes(text, want, what) {
  if (typeof text !== 'string' || !text.includes(want)) throw new Error(`${what}: ${JSON.stringify(text)} does not contain ${JSON.stringify(want)}`);
}

function expectEqual(got, want, what) {
  if (got !== want) throw new Error(`${what}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
