// TestHiddenHostCandidates (widgets/video): a page that never asked for
// camera or microphone hides its host candidates behind mDNS names, which
// the media server cannot resolve; it must still connect at once, through
// the peer-reflexive candidate its first check creates (issue 14,
// acceptance 7). The page receives only: a synthetic publisher sends.
import { run, launch, step, log } from '../lib/harness.mjs';

run(async () => {
  // No fake media UI: without a media permission Chromium hides host
  // candidates (mDNS), as for any receive-only visitor.
  const browser = await launch({ args: ['--allow-loopback-in-peer-connection'] });
  const cfg = await step('ready');
  const page = await (await browser.newContext()).newPage();
  await page.goto(cfg.page);
  const result = await page.evaluate(async (join) => {
    const { Call } = await import('/assets/kit/rtc.js');
    const call = new Call(join);
    window.__rathausCall = call;
    const started = performance.now();
    const connected = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not connected within 10 s')), 10000);
      const check = () => {
        if (call.pc && call.pc.connectionState === 'connected') {
          clearTimeout(timer);
          resolve(performance.now() - started);
        }
      };
      const wait = setInterval(() => { if (call.pc) { clearInterval(wait); call.pc.addEventListener('connectionstatechange', check); check(); } }, 5);
    });
    await call.start(null);
    const ms = await connected;
    const local = [];
    (await call.pc.getStats()).forEach((s) => { if (s.type === 'local-candidate') local.push({ address: s.address || s.ip || '', type: s.candidateType }); });
    const desc = call.pc.localDescription.sdp;
    return { ms, local, mdnsInSdp: /\.local /.test(desc), hostIPInSdp: / 127\.0\.0\.1 \d+ typ host/.test(desc) };
  }, cfg.join);
  log(`connected after ${Math.round(result.ms)} ms; local candidates ${JSON.stringify(result.local)}`);
  await step('connected', result);
});
