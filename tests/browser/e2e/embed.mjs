// The chat embedded as an iframe: a portal on the allow-list shows it and
// a citizen can open a case inside it; a page not on the list gets nothing.
import { run, launch, step, log, allowConsoleErrors } from '../lib/harness.mjs';

run(async () => {
  const browser = await launch();
  const page = await browser.newPage();
  const { portal, other } = await step('ready');

  await page.goto(portal);
  const frame = await (await page.waitForSelector('iframe#chat')).contentFrame();
  await frame.waitForSelector('#entry:not([hidden])');
  await frame.fill('#question', 'Eine Frage aus dem Portal');
  await frame.press('#question', 'Tab');
  await frame.click('#submit');
  await frame.waitForSelector('#chat:not([hidden])', { timeout: 60000 });
  const reference = (await frame.textContent('#case-reference')).trim();
  log(`case ${reference} opened inside the portal's iframe`);

  const blocked = await browser.newPage();
  allowConsoleErrors(blocked, /frame-ancestors|Refused to frame|Content Security Policy/i);
  const refused = blocked.waitForEvent('console', { predicate: (m) => /frame-ancestors/.test(m.text()), timeout: 30000 });
  await blocked.goto(other);
  const handle = await blocked.waitForSelector('iframe#chat');
  log(`refused: ${(await refused).text()}`);
  const inner = await handle.contentFrame();
  const loaded = inner ? await inner.$('#entry, #chat, main').catch(() => null) : null;
  if (loaded) throw new Error('a page that is not on the allow-list could frame the chat');
  await step('done', { reference });
});
