// TestBrowserDemoPrivacyPage (widgets/guestchat): the demo's privacy notice is
// German first, has an English part reached by the language link, only
// links that lead somewhere, reflows at 320 CSS px and passes axe.
import { run, launch, step, log, checkA11y } from '../lib/harness.mjs';

run(async () => {
  const browser = await launch();
  const { url } = await step('ready');
  const a11y = [];
  const page = await (await browser.newContext({ locale: 'de-DE' })).newPage();

  const res = await page.goto(url);
  if (res.status() !== 200) throw new Error(`the privacy page answered ${res.status()}`);
  const facts = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    h1: [...document.querySelectorAll('h1')].map((h) => h.textContent),
    english: document.getElementById('en')?.lang,
    styled: getComputedStyle(document.querySelector('.site-header')).borderBottomStyle,
    links: [...document.querySelectorAll('a')].map((a) => a.getAttribute('href')),
  }));
  if (facts.lang !== 'de' || facts.h1.length !== 1 || facts.h1[0] !== 'Datenschutz im Chat') throw new Error(`page: ${JSON.stringify(facts)}`);
  if (facts.english !== 'en') throw new Error('the English part is not marked lang="en"');
  if (facts.styled !== 'solid') throw new Error('the chat\'s stylesheets did not load');
  if (facts.links.some((h) => !h || h === '#')) throw new Error(`links that go nowhere: ${JSON.stringify(facts.links)}`);
  a11y.push(await checkA11y(page, 'demo privacy notice'));

  // The language link leads to the English part, by keyboard.
  await page.focus('#lang-switch');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash === '#en');
  const inView = await page.evaluate(() => {
    const r = document.getElementById('en-heading').getBoundingClientRect();
    return r.top >= 0 && r.top < window.innerHeight;
  });
  if (!inView) throw new Error('the English part is not shown after the language link');

  await page.setViewportSize({ width: 320, height: 640 });
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  if (widths.scroll > widths.inner) throw new Error(`at 320 px the page scrolls sideways: ${JSON.stringify(widths)}`);
  a11y.push(await checkA11y(page, 'demo privacy notice at 320 px'));
  log(`axe checked ${a11y.length} views`);
  await step('done', { a11y: a11y.map((r) => ({ label: r.label, passes: r.passes })) });
});
