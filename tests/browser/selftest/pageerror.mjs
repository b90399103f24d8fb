// Selftest: an uncaught error inside the page fails the script by itself.
import { run, launch, step } from '../lib/harness.mjs';

run(async () => {
  const browser = await launch();
  const page = await browser.newPage();
  const { url } = await step('ready');
  await page.goto(url);
  // The page throws from a timer. Nothing else ends this wait: only the
  // harness failing the script on the page error does.
  await new Promise(() => {});
});
