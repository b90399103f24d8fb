// Selftest: an error in the script reaches the Go side as a failure.
import { run, launch, step } from '../lib/harness.mjs';

run(async () => {
  const browser = await launch();
  const page = await browser.newPage();
  const { url } = await step('ready');
  await page.goto(url);
  throw new Error('deliberate failure from selftest/throws.mjs');
});
