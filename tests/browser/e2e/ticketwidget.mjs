// The caseworker of TestBrowserTicketWidget (cmd/rathaus): a host page on
// another loopback origin embeds the ticket widget with the real
// ClientWidgetApi of matrix-widget-api, as Element Web does, and hands it
// OpenID tokens the Go test got from the real homeserver. The caseworker
// reads the ticket, asks the citizen, links a ticket number, requests a
// document and resolves the case, with the keyboard; a citizen ghost's, a
// non-member's and a forged server's token are refused (issue 13,
// acceptance 6). axe checks each state of the widget's frame.
import { run, launch, step, log, checkA11y, allowConsoleErrors } from '../lib/harness.mjs';

run(async () => {
  const browser = await launch();
  const cfg = await step('ready');
  const a11y = [];
  const check = async (frame, label) => {
    const r = await checkA11y(frame, label);
    a11y.push({ label, passes: r.passes });
  };

  // open embeds the widget for a token and returns the widget's frame.
  const open = async (token, lang = 'de') => {
    const page = await (await browser.newContext({ locale: lang === 'en' ? 'en-GB' : 'de-DE' })).newPage();
    // The refused sign-ins answer 403; the page says why itself.
    allowConsoleErrors(page, /status of 403/);
    await page.goto(cfg.host);
    const url = await page.evaluate((args) => window.openWidget(args),
      { widget: cfg.widget, roomId: cfg.room, userId: cfg.userId, lang, token });
    if (!url.startsWith(cfg.widgetBase)) throw new Error(`the widget URL is ${url}`);
    const frame = await (await page.waitForSelector('iframe')).contentFrame();
    await frame.waitForURL((u) => u.href.startsWith(cfg.widgetBase), { timeout: 30000 });
    await frame.waitForSelector('body[data-state]', { timeout: 30000 });
    return { page, frame };
  };

  // ---- the caseworker --------------------------------------------------
  const { page, frame } = await open(cfg.tokens.anna);
  expectEqual(await frame.getAttribute('body', 'data-state'), 'ready', 'the caseworker signs in');
  if (!(await page.evaluate(() => window.widgetReady))) throw new Error('ClientWidgetApi did not become ready');
  expectEqual(JSON.stringify(await page.evaluate(() => window.requestedCapabilities)), '[]', 'the widget asks for no capabilities');
  const summary = await frame.textContent('#summary');
  for (const want of ['Bauantrag online', 'Angaben zum Grundstück', 'E-FLURSTUECK-404', '99108008000000', 'in Bearbeitung', cfg.reference]) {
    expectIncludes(summary, want, 'the summary');
  }
  expectIncludes(await frame.textContent('#history'), 'wartet auf Bearbeitung', 'the history');
  expectIncludes(await frame.textContent('#history'), 'Einreichung eingereicht', "the submission's course");
  expectIncludes(await frame.textContent('#history'), 'Einreichung weitergeleitet', "the submission's course");
  expectIncludes(summary, 'weitergeleitet', 'the submission status');
  await check(frame, 'ticket widget (de)');

  // Keyboard only: focus the button, press Enter.
  await frame.focus('#status-awaiting');
  await page.keyboard.press('Enter');
  await frame.waitForSelector('#done:not([hidden])', { timeout: 30000 });
  expectEqual((await frame.textContent('#done')).trim(), 'Der Fall ist jetzt: Rückfrage an Bürger:in.', 'the status message');
  await step('awaiting');

  await frame.focus('#ref-input');
  await page.keyboard.type('INC 4711');
  await page.keyboard.press('Enter');
  await frame.waitForSelector('#ref-input[aria-invalid="true"]');
  // The error region is filled a moment later, so it is announced.
  await frame.waitForFunction(() => document.querySelector('#error').textContent.includes('64 Zeichen'), null, { timeout: 5000 });
  await frame.fill('#ref-input', 'INC-2026/4711');
  await page.keyboard.press('Enter');
  await frame.waitForFunction(() => document.querySelector('#done').textContent.includes('INC-2026/4711'), null, { timeout: 30000 });
  expectIncludes(await frame.textContent('#summary'), 'INC-2026/4711', 'the number in the summary');
  await step('linked');

  await frame.selectOption('#doc-select', 'ausweis');
  await frame.focus('#doc-submit');
  await page.keyboard.press('Enter');
  await frame.waitForFunction(() => document.querySelector('#done').textContent.includes('Ausweis'), null, { timeout: 30000 });
  await step('requested');

  await frame.focus('#status-resolved');
  await page.keyboard.press('Enter');
  await frame.waitForFunction(() => document.querySelector('#done').textContent.includes('erledigt'), null, { timeout: 30000 });
  expectIncludes(await frame.textContent('#history'), 'erledigt', 'the history shows the change');
  if (!(await frame.isDisabled('#status-resolved'))) throw new Error('resolving a resolved case is still offered');
  await check(frame, 'ticket widget after the actions');
  await step('resolved');

  // ---- in English, as the client's language says ----------------------
  const en = await open(cfg.tokens.anna, 'en');
  expectEqual(await en.frame.getAttribute('html', 'lang'), 'en', 'the page language');
  expectEqual((await en.frame.textContent('#summary-heading')).trim(), 'Hand-over from the online service', 'English texts');
  await check(en.frame, 'ticket widget (en)');

  // ---- refusals -----------------------------------------------------------
  for (const [who, code] of [['ghost', 'forbidden'], ['stranger', 'not_member'], ['evil', 'forbidden']]) {
    const r = await open(cfg.tokens[who]);
    expectEqual(await r.frame.getAttribute('body', 'data-state'), 'refused', `${who} is refused`);
    expectEqual(await r.frame.getAttribute('body', 'data-code'), code, `${who}'s refusal`);
    if (await r.frame.isVisible('#ticket')) throw new Error(`${who} sees the ticket`);
    if (who === 'ghost') await check(r.frame, 'ticket widget refused');
  }
  log(`axe checked ${a11y.length} states`);
  await step('done', { a11y });
});

function expectIncludes(text, want, what) {
  if (typeof text !== 'string' || !text.includes(want)) throw new Error(`${what}: ${JSON.stringify(text)} does not contain ${JSON.stringify(want)}`);
}

function expectEqual(got, want, what) {
  if (got !== want) throw new Error(`${what}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
