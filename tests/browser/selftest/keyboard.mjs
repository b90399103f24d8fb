// Selftest: tabTo and shiftTabTo walk with the keyboard only and notice a
// removed focus outline.
import { run, launch, step, tabTo, shiftTabTo } from '../lib/harness.mjs';

run(async () => {
  const browser = await launch();
  const page = await browser.newPage();
  const { base } = await step('ready');

  await page.goto(`${base}/form`);
  const send = await tabTo(page, '#send');
  const back = await shiftTabTo(page, '#name');
  let missing = null;
  try {
    await tabTo(page, '#nowhere', { max: 8 });
  } catch (err) {
    missing = err.message;
  }

  await page.goto(`${base}/no-outline`);
  let hidden = null;
  try {
    await tabTo(page, '#send');
  } catch (err) {
    hidden = err.message;
  }
  await step('done', { send, back, missing, hidden });
});
