// The citizen of TestBrowserHandOver (cmd/rathaus): an online service's
// page on another origin opens "Hilfe" with a signed context; the chat
// says what the request is about and the step, in the citizen's language,
// opens the case there and keeps saying it after a reload, and shows the
// application's status a FIT-Connect callback reports; expired and
// replayed links get their own plain refusal (issue 13, acceptance 1–2, 5).
import { run, launch, step, log, checkA11y, allowConsoleErrors } from '../lib/harness.mjs';
import { watchDialogs } from './citizen.mjs';

run(async () => {
  const browser = await launch();
  const { service } = await step('ready');
  const a11y = [];
  const check = async (page, label) => {
    const r = await checkA11y(page, label);
    a11y.push({ label, passes: r.passes });
  };
  const newPage = async (locale = 'de-DE') => {
    const p = await (await browser.newContext({ locale })).newPage();
    allowConsoleErrors(p, /status of (400|409)/);
    return p;
  };

  // ---- a valid hand-over ------------------------------------------------
  const page = await newPage();
  const dialogs = watchDialogs(page);
  await page.goto(service);
  await page.click('#hilfe');
  await page.waitForSelector('#handover:not([hidden])', { timeout: 30000 });
  if (!page.url().includes('/hilfe#ctx=')) throw new Error(`the link opened ${page.url()}`);
  expectEqual((await page.textContent('#handover-service')).trim(), 'Ihre Anfrage zu: Bauantrag online', 'the service');
  expectEqual((await page.textContent('#handover-step')).trim(), 'Schritt im Online-Dienst: Angaben zum Grundstück', 'the step');
  await page.waitForSelector('#entry:not([hidden])');
  expectEqual((await page.textContent('h1')).trim(), 'Chat mit dem Team Bauamt', 'the department of the LeiKa key');
  await check(page, 'hand-over entry');
  await page.fill('#question', 'Ich finde die Flurstücksnummer nicht.');
  await page.click('#submit');
  await page.waitForSelector('#chat:not([hidden])', { timeout: 30000 });
  const reference = (await page.textContent('#case-reference')).trim();
  if (!(await page.isVisible('#handover'))) throw new Error('the hand-over is no longer shown in the chat');
  await check(page, 'hand-over chat');
  // The same tab after a reload: the same session, the same context.
  await page.reload();
  await page.waitForSelector('#chat:not([hidden])', { timeout: 30000 });
  await page.waitForSelector('#handover:not([hidden])');
  expectEqual((await page.textContent('#case-reference')).trim(), reference, 'the case after a reload');
  await step('opened', { reference });

  // ---- the application's status, from a FIT-Connect callback ------------
  await page.waitForSelector('#case-submission-row:not([hidden])', { timeout: 30000 });
  expectEqual((await page.textContent('#case-submission')).trim(), 'weitergeleitet', 'the application status in the header');
  await page.waitForFunction(() => document.querySelector('#messages').textContent
    .includes('Ihr Antrag wurde weitergeleitet. Er ist auf dem Weg zur zuständigen Stelle.'), null, { timeout: 30000 });
  expectEqual(await page.getAttribute('#messages', 'aria-live'), 'polite', 'the step is announced');
  await check(page, 'hand-over chat with the application status');

  // ---- in English, as the service asked ---------------------------------
  const en = await newPage();
  await en.goto(service);
  await en.click('#hilfe-en');
  await en.waitForSelector('#handover:not([hidden])', { timeout: 30000 });
  expectEqual((await en.textContent('#handover-service')).trim(), 'Your request about: Bauantrag online', 'the service in English');
  expectEqual((await en.textContent('#handover-step')).trim(), 'Step in the online service: Angaben zum Grundstück', 'the step in English');
  expectEqual(await en.getAttribute('html', 'lang'), 'en', 'the page language');
  await en.waitForSelector('#entry:not([hidden])');
  await check(en, 'hand-over entry (en)');

  // ---- refusals -----------------------------------------------------------
  const expired = await newPage();
  await expired.goto(service);
  await expired.click('#hilfe-abgelaufen');
  await expired.waitForSelector('#handover-refused:not([hidden])', { timeout: 30000 });
  expectEqual((await expired.textContent('#handover-refused h2')).trim(), 'Der Link aus dem Online-Dienst funktioniert nicht', 'the refusal heading');
  expectIncludes(await expired.textContent('#handover-refused-text'), 'Der Link ist abgelaufen.', 'expired');
  if (await expired.isVisible('#entry')) throw new Error('the entry form shows for an expired link');
  await check(expired, 'hand-over refused (expired)');

  const replayed = await newPage();
  await replayed.goto(service);
  await replayed.click('#hilfe');
  await replayed.waitForSelector('#handover-refused:not([hidden])', { timeout: 30000 });
  expectIncludes(await replayed.textContent('#handover-refused-text'), 'schon in einem anderen Browser', 'replayed');
  await check(replayed, 'hand-over refused (replayed)');
  // Writing without the context still works, unverified.
  await replayed.click('#handover-plain');
  await replayed.waitForSelector('#entry:not([hidden])', { timeout: 30000 });
  if (await replayed.isVisible('#handover')) throw new Error('a plain /hilfe shows a hand-over');

  if (dialogs.length) throw new Error(`the page opened dialogs: ${JSON.stringify(dialogs)}`);
  log(`axe checked ${a11y.length} states`);
  await step('done', { a11y });
});

function expectIncludes(text, want, what) {
  if (typeof text !== 'string' || !text.includes(want)) throw new Error(`${what}: ${JSON.stringify(text)} does not contain ${JSON.stringify(want)}`);
}

function expectEqual(got, want, what) {
  if (got !== want) throw new Error(`${what}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
