// Selftest: axe-core under a strict CSP finds the violations of a bad page
// and passes a clean one.
import { run, launch, step, checkA11y, allowConsoleErrors } from '../lib/harness.mjs';

run(async () => {
  const browser = await launch();
  const page = await browser.newPage();
  const { base } = await step('ready');

  // The bad page also carries an inline script: the CSP must block it, which
  // Chromium reports as a console error ("Executing inline script violates
  // the following Content Security Policy directive 'script-src 'self''").
  allowConsoleErrors(page, /inline script violates .*Content Security Policy directive 'script-src/);
  await page.goto(`${base}/bad`);
  const inlineRan = await page.evaluate(() => document.body.dataset.inline === 'ran');
  const externalRan = await page.evaluate(() => document.body.dataset.external === 'ran');
  let badError = null;
  try {
    await checkA11y(page, 'bad page');
  } catch (err) {
    badError = err.message;
  }
  await step('bad', { error: badError, inlineRan, externalRan });

  await page.goto(`${base}/good`);
  const summary = await checkA11y(page, 'good page');
  await step('good', summary);
});
