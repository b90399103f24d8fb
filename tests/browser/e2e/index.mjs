// TestBrowserIndexAndPrivacyLink (widgets/guestchat): the index page at /
// lists the departments in German and English and passes axe; the chat
// page links the privacy notice when there is one and shows no link at all
// when there is none (issue 11, points 2 and 6).
import { run, launch, step, log, checkA11y } from '../lib/harness.mjs';

function expectIncludes(text, want, what) {
  if (typeof text !== 'string' || !text.includes(want)) throw new Error(`${what}: ${JSON.stringify(text)} does not contain ${JSON.stringify(want)}`);
}

run(async () => {
  const browser = await launch();
  const { base, bare, privacy } = await step('ready');
  const a11y = [];
  const check = async (page, label) => a11y.push(await checkA11y(page, label));

  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();

  // ---- the index, in German ---------------------------------------------
  for (const path of ['/', '/chat/']) {
    const res = await page.goto(base + path);
    if (res.status() !== 200) throw new Error(`${path} answered ${res.status()}, want 200`);
  }
  expectIncludes(await page.getAttribute('html', 'lang'), 'de', 'the language of the index');
  expectIncludes(await page.textContent('h1'), 'Chat mit der Verwaltung', 'the heading');
  const items = await page.$$eval('li.department', (lis) => lis.map((li) => ({
    name: li.querySelector('h2').textContent.trim(),
    href: li.querySelector('h2 a').getAttribute('href'),
    text: li.textContent.replace(/\s+/g, ' '),
  })));
  if (items.length !== 2) throw new Error(`the index lists ${items.length} departments, want 2: ${JSON.stringify(items)}`);
  if (items[0].href !== '/chat/bauamt' || items[1].href !== '/chat/standesamt') throw new Error(`links: ${JSON.stringify(items)}`);
  expectIncludes(items[0].text, 'Jetzt geöffnet.', 'the open Bauamt');
  expectIncludes(items[1].text, 'Zurzeit geschlossen. Wir öffnen wieder ', 'the closed Standesamt');
  if (!/wieder (am \S+, \d+\. \S+|morgen) um 9:00 Uhr\./.test(items[1].text)) throw new Error(`the next opening is not in words: ${items[1].text}`);
  expectIncludes(await page.getAttribute('#privacy-link', 'href'), privacy, 'the privacy link of the index');
  await check(page, 'index (de)');

  // WCAG 1.4.10: at 320 CSS px nothing scrolls sideways.
  await page.setViewportSize({ width: 320, height: 640 });
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  if (widths.scroll > widths.inner) throw new Error(`at 320 px the index scrolls sideways: ${JSON.stringify(widths)}`);
  await check(page, 'index at 320 px');
  await page.setViewportSize({ width: 1280, height: 720 });

  // ---- switched to English, by keyboard ---------------------------------
  await page.focus('#lang-switch');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  expectIncludes(await page.getAttribute('html', 'lang'), 'en', 'the language after the switch');
  expectIncludes(await page.textContent('h1'), 'Chat with the administration', 'the English heading');
  const closed = (await page.textContent('#department-standesamt')).replace(/\s+/g, ' ');
  if (!/Closed at the moment\. We open again (on \S+, \d+ \S+|tomorrow) at 9:00\./.test(closed)) throw new Error(`English closed notice: ${closed}`);
  await check(page, 'index (en)');

  // The language carries over to the chat page.
  await Promise.all([page.waitForNavigation(), page.click('text=Bauamt')]);
  if (!page.url().endsWith('/chat/bauamt?lang=en')) throw new Error(`the Bauamt link went to ${page.url()}`);
  await page.waitForSelector('#entry:not([hidden])');
  expectIncludes(await page.getAttribute('html', 'lang'), 'en', 'the chat page after the index');

  // ---- the chat page links the privacy notice ---------------------------
  await page.goto(`${base}/chat/bauamt`);
  await page.waitForSelector('#entry:not([hidden])');
  if (!(await page.isVisible('#privacy-link'))) throw new Error('the privacy link is not shown although there is a privacy notice');
  expectIncludes(await page.getAttribute('#privacy-link', 'href'), privacy, 'the privacy link');
  expectIncludes(await page.textContent('#privacy-link'), 'Datenschutzerklärung von Stadt Demoheim', 'the privacy link text');

  // ---- without a privacy notice (the tests' opt-out): no dead link ------
  await page.goto(`${bare}/chat/bauamt`);
  await page.waitForSelector('#entry:not([hidden])');
  const dead = await page.evaluate(() => [...document.querySelectorAll('a')]
    .filter((a) => a.offsetParent !== null && (!a.getAttribute('href') || a.getAttribute('href') === '#'))
    .map((a) => a.outerHTML));
  if (dead.length) throw new Error(`the page shows links that go nowhere: ${JSON.stringify(dead)}`);
  if (await page.isVisible('#privacy-link')) throw new Error('a privacy link is shown without a privacy notice');
  await check(page, 'entry without privacy notice');
  await page.goto(`${bare}/`);
  if (await page.$('#privacy-link')) throw new Error('the index shows a privacy link without a privacy notice');
  await check(page, 'index without privacy notice');

  log(`axe checked ${a11y.length} pages`);
  await step('done', { a11y: a11y.map((r) => ({ label: r.label, passes: r.passes })) });
});
