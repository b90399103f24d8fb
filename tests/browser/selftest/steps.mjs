// Selftest: data goes both ways across two steps.
import { run, launch, step, log } from '../lib/harness.mjs';

run(async () => {
  const browser = await launch();
  const page = await browser.newPage();
  const { url } = await step('ready', { from: 'node' });
  await page.goto(url);
  const text = await page.textContent('#greeting');
  const reply = await step('read', { text, title: await page.title() });
  log(`Go replied ${JSON.stringify(reply)}`);
  console.log('console.log goes to stderr, never into the protocol');
  await page.fill('#name', reply.name);
  await step('filled', { value: await page.inputValue('#name') });
});
