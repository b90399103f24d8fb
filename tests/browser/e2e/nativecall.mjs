// TestNativeCallFromMatrixClient (cmd/rathaus), issue 15 acceptance 1: a
// caseworker joins a case's call with a Matrix client of their own, made of
// what Element Call is made of (matrix-js-sdk's MatrixRTCSession and
// livekit-client; native/staffclient.mjs, bundled here with esbuild), on
// Synapse and LiveKit. The citizen knocks from the guest chat and is
// admitted by command; their ghost's call membership names rathaus as the
// focus; the caseworker's client finds it there (as Element Call does when
// joining a running call), gets its LiveKit token from rathaus, and the two
// exchange media. The client matches the citizen's LiveKit identity to the
// ghost's call membership.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { run, launch, step, log } from '../lib/harness.mjs';

const MEDIA_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required'];

run(async () => {
  // The caseworker's client as a page on loopback.
  const built = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('../native/staffclient.mjs', import.meta.url))],
    bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'error',
  });
  const bundle = built.outputFiles[0].contents;
  const server = http.createServer((req, res) => {
    if (req.url === '/staff.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(bundle);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="de"><head><title>Sachbearbeitung</title><script type="module" src="/staff.js"></script></head><body></body></html>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const clientURL = `http://127.0.0.1:${server.address().port}/`;

  const browser = await launch({ args: MEDIA_ARGS });
  const cfg = await step('ready');

  // ---- the citizen knocks ---------------------------------------------------
  const citizen = await (await browser.newContext({ locale: 'de-DE' })).newPage();
  await citizen.goto(`${cfg.base}/chat/bauamt`);
  await citizen.waitForSelector('#entry:not([hidden])', { timeout: 30000 });
  await citizen.fill('#question', 'Ich brauche Hilfe beim Bauantrag.');
  await citizen.click('#submit');
  await citizen.waitForSelector('#chat:not([hidden])', { timeout: 60000 });
  const reference = (await citizen.textContent('#case-reference')).trim();
  await citizen.waitForSelector('#video:not([hidden])', { timeout: 30000 });
  await citizen.click('#video-start');
  await citizen.waitForFunction(() => !document.querySelector('#video-knock').disabled, null, { timeout: 15000 });
  await citizen.click('#video-knock');
  await citizen.waitForSelector('#video[data-video-state="waiting"]', { timeout: 15000 });
  const ctl = await step('waiting', { reference });

  // ---- admitted by command: the citizen is in the call ---------------------
  await citizen.waitForSelector('#video[data-video-state="in-call"]', { timeout: 30000 });
  await step('citizen-in-call');

  // ---- the caseworker presses "call" in their own client --------------------
  const staff = await (await browser.newContext({ locale: 'de-DE' })).newPage();
  await staff.goto(clientURL);
  await staff.waitForFunction(() => typeof window.nativeCall === 'function', null, { timeout: 15000 });
  const joinedAt = Date.now();
  const result = await staff.evaluate((args) => window.nativeCall(args), {
    hs: cfg.homeserver, userId: cfg.userId, accessToken: cfg.accessToken, deviceId: cfg.deviceId, roomId: ctl.room,
  });
  const nativeDecodes = Date.now() - joinedAt;
  for (const line of result.log) log(line);
  log(`the caseworker's client decodes the citizen ${nativeDecodes} ms after pressing call (token after ${result.tokenAfter} ms), ${result.width} px wide`);

  // The citizen's page decodes the caseworker's video.
  await until(citizen, async () => {
    const pc = window.__rathausCall && window.__rathausCall.pc;
    if (!pc) return false;
    let frames = 0;
    (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0; });
    return frames > 0;
  }, 15000);
  const f0 = await staff.evaluate(() => window.nativeFrames());
  await new Promise((r) => setTimeout(r, 3000));
  const f1 = await staff.evaluate(() => window.nativeFrames());
  log(`the caseworker's client decoded ${f1 - f0} frames of the citizen in 3 s`);
  await step('native-in-call', { ...result, fps: (f1 - f0) / 3 });

  // ---- the caseworker hangs up ----------------------------------------------
  await staff.evaluate(() => window.nativeHangUp());
  await step('done');
  server.close();
});

async function until(frame, predicate, timeout) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await frame.evaluate(predicate)) return;
    if (Date.now() > deadline) throw new Error(`not within ${timeout} ms: ${predicate}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
