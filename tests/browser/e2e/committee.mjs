// TestCommitteeOnLiveKit (video/livekit) and
// TestCommitteeOfBrowserMembers (video/embedded), issue 15 acceptance 5:
// the members of a committee call are rathaus's own call client
// (widgets/internal/webkit/rtc.js, lkcall.js on LiveKit, served from their
// sources as the pages serve them), a page each, publishing a camera (a
// canvas, 480×270 at 10 frames a second, sent as simulcast in two layers)
// and a microphone (a tone whose volume the Go test turns up when the
// member "speaks": both servers' speaker detection reads the audio level
// Chromium puts on each packet). On
// LiveKit one more page holds two listeners of the same client, so its
// rule for picking the shown videos runs in a browser too (the embedded
// server picks by itself). The 40 synthetic listeners are the Go test's.
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, launch, step, log } from '../lib/harness.mjs';

const KIT = fileURLToPath(new URL('../../../widgets/internal/webkit/', import.meta.url));
// PAGE is an empty page; open() loads the kit's call clients into it
// (KIT_IMPORTS), from the page's origin. The embedded server's test serves such a
// page itself, since that server takes signalling only from its own
// origin.
const PAGE = '<!doctype html><html lang="de"><head><title>Ausschuss</title></head><body></body></html>';
const KIT_IMPORTS = `import { LiveKitCall } from '/kit/lkcall.js';
import { callFor } from '/kit/rtc.js';
window.LiveKitCall = LiveKitCall;
window.callFor = callFor;
window.kitReady = true;`;

run(async () => {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/kit/')) {
      const file = path.normalize(path.join(KIT, url.pathname.slice('/kit/'.length)));
      if (!file.startsWith(KIT) || !file.endsWith('.js')) {
        res.writeHead(404).end();
        return;
      }
      try {
        const body = await fs.readFile(file);
        res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Every page draws and sends all the time, as on devices of its own:
  // no throttling of pages Chromium thinks are in the background.
  const browser = await launch({ args: ['--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
    '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'] });
  let origin = `http://127.0.0.1:${server.address().port}`;
  const open = async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${origin}/`);
    await page.addScriptTag({ type: 'module', content: KIT_IMPORTS });
    await page.waitForFunction(() => window.kitReady === true, null, { timeout: 30000 });
    return page;
  };
  const cfg = await step('ready');
  // The embedded server takes signalling only from pages of its own
  // origin (as rathaus serves them): the Go test then serves the page.
  if (cfg.origin) origin = cfg.origin;

  // ---- the members join, one after the other -------------------------------
  const members = [];
  for (const [i, join] of cfg.members.entries()) {
    const page = await open();
    await page.evaluate(MEMBER, { join, name: `Mitglied ${i + 1}` });
    members.push(page);
  }
  log(`${members.length} members publish`);

  // ---- the page's listeners join (LiveKit only) ----------------------------
  let listeners = null;
  if (cfg.listeners.length) {
    listeners = await open();
    await listeners.evaluate(LISTEN, { joins: cfg.listeners });
    log(`${cfg.listeners.length} listeners joined in a page`);
  }

  // ---- rounds: the Go side names who speaks and what every listener shows ----
  let next = await step('joined');
  let speaking = -1;
  while (next && next.expect) {
    const { expect, speaker } = next;
    if (!listeners) {
      // Only synthetic listeners: the Go side measures from here.
      if (speaking >= 0) await members[speaking].evaluate(() => window.speak(false));
      const began = Date.now();
      if (speaker >= 0) await members[speaker].evaluate(() => window.speak(true));
      speaking = speaker;
      const sent = await Promise.all(members.map((m) => m.evaluate(() => window.sentLayers())));
      next = await step('followed', { began, sent });
      continue;
    }
    await listeners.evaluate((want) => { window.followedAt = 0; window.heardAt = 0; window.expect = want; window.timeline = []; }, expect);
    if (speaking >= 0) await members[speaking].evaluate(() => window.speak(false));
    const began = Date.now();
    if (speaker >= 0) await members[speaker].evaluate(() => window.speak(true));
    speaking = speaker;
    const deadline = Date.now() + 20000;
    for (;;) {
      const at = await listeners.evaluate(() => window.followedAt);
      if (at > 0) {
        const heard = await listeners.evaluate(() => window.heardAt);
        const max = await listeners.evaluate(() => window.maxTaken);
        // Then what every listener receives over a second, half a second
        // on: the shown videos and nothing else.
        await new Promise((r) => setTimeout(r, 500));
        const before = await listeners.evaluate(() => window.calls.map((c) => window.framesOf(c)));
        await new Promise((r) => setTimeout(r, 1000));
        const after = await listeners.evaluate(() => window.calls.map((c) => window.framesOf(c)));
        const steady = {};
        for (const [i, got] of after.entries()) {
          const r = Object.keys(got).filter((who) => got[who] > (before[i][who] || 0)).sort().join(',');
          steady[r] = (steady[r] || 0) + 1;
        }
        const sent = await Promise.all(members.map((m) => m.evaluate(() => window.sentLayers())));
        const timeline = (await listeners.evaluate(() => window.timeline)).map((tl) => ({ enabled: tl.enabled - began, frame: tl.frame - began }));
        next = await step('followed', { began, at, heard, max, steady, sent, timeline });
        break;
      }
      if (Date.now() > deadline) {
        const counts = {};
        for (const seen of await listeners.evaluate(() => window.calls.map((c) => window.cameras(c).join(',')))) {
          counts[seen] = (counts[seen] || 0) + 1;
        }
        const first = await listeners.evaluate(() => [...window.calls[0].room.remoteParticipants.values()]
          .flatMap((p) => [...p.trackPublications.values()].filter((pub) => pub.source === 'camera').map((pub) => ({
            who: p.identity, enabled: pub.isEnabled, subscribed: pub.isSubscribed, status: pub.subscriptionStatus,
          }))));
        throw new Error(`the page's listeners do not show ${expect.join(', ')} within 20 s: ${JSON.stringify(counts)}; `
          + `the first listener's cameras: ${JSON.stringify(first)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (listeners) await listeners.evaluate(() => { for (const c of window.calls) c.leave(); });
  for (const m of members) await m.evaluate(() => window.call.leave());
  server.close();
});

// MEMBER runs in a member's page: a moving picture and a tone, silent
// until window.speak(true), published with the page's call client.
// window.sentLayers tells which simulcast layers the page sends.
async function MEMBER({ join, name }) {
  const canvas = Object.assign(document.createElement('canvas'), { width: 480, height: 270 });
  document.body.append(canvas);
  const g = canvas.getContext('2d');
  let n = 0;
  setInterval(() => {
    g.fillStyle = `hsl(${(n * 9) % 360} 55% 45%)`;
    g.fillRect(0, 0, 480, 270);
    g.fillStyle = '#fff';
    g.font = '32px sans-serif';
    g.fillText(`${name} · ${n++}`, 30 + (n % 40) * 4, 145);
  }, 100);
  const camera = canvas.captureStream(10).getVideoTracks()[0];
  const ac = new AudioContext();
  const tone = ac.createOscillator();
  tone.frequency.value = 220;
  const volume = ac.createGain();
  volume.gain.value = 0;
  const mic = ac.createMediaStreamDestination();
  tone.connect(volume).connect(mic);
  tone.start();
  window.speak = (on) => { volume.gain.value = on ? 0.8 : 0; };
  // The layers whose bytes grew since the last call (rid or "-").
  const last = new Map();
  window.sentLayers = async () => {
    const now = new Map();
    (await window.call.pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') now.set(s.rid || '-', s.bytesSent || 0);
    });
    const grew = [...now].filter(([rid, b]) => b > (last.get(rid) || 0)).map(([rid]) => rid).sort();
    for (const [rid, b] of now) last.set(rid, b);
    return grew;
  };
  const call = await window.callFor(join);
  window.call = call;
  const joined = new Promise((resolve) => call.addEventListener('joined', resolve, { once: true }));
  await call.start(new MediaStream([camera, mic.stream.getAudioTracks()[0]]));
  await joined;
}

// LISTEN runs in the listeners' page: they join, and a 100 ms tick
// records the most camera videos any of them took, and when all of them
// first knew the expected speaker (heardAt) and received the expected
// videos (followedAt).
async function LISTEN({ joins }) {
  window.calls = [];
  // flowing: whether frames of a track arrived in the last 500 ms (the
  // members send 10 a second), from the receiver's statistics, which the
  // tick samples. Frames, not bytes: LiveKit probes the bandwidth with
  // padding on video it does not forward.
  const WINDOW = 500;
  // Per listener (the listeners in the page share track sids): call →
  // track sid → [{ at, frames }].
  const framesBy = new Map();
  const series = (c) => framesBy.get(c) || framesBy.set(c, new Map()).get(c);
  const sample = async (c, pub) => {
    const r = pub.track && pub.track.receiver;
    if (!r) return;
    let got = 0;
    (await r.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') got += s.framesReceived || 0; });
    const at = Date.now();
    const seen = series(c).get(pub.trackSid) || [];
    seen.push({ at, frames: got });
    while (seen.length > 1 && at - seen[0].at > 2000) seen.shift();
    series(c).set(pub.trackSid, seen);
  };
  const flowing = (c, pub) => {
    const seen = series(c).get(pub.trackSid) || [];
    const now = Date.now();
    const before = seen.filter((s) => now - s.at >= WINDOW);
    const base = before.length ? before[before.length - 1] : null;
    return !!base && seen[seen.length - 1].frames > base.frames;
  };
  const cameraPubs = (c) => [...c.room.remoteParticipants.values()]
    .flatMap((p) => [...p.trackPublications.values()].filter((pub) => pub.source === 'camera').map((pub) => ({ who: p.identity, pub })));
  // cameras: the members whose camera video a listener takes and
  // receives; taken: how many
  // camera videos a listener takes (subscribed and enabled).
  window.cameras = (c) => cameraPubs(c).filter(({ pub }) => pub.isSubscribed && pub.isEnabled && flowing(c, pub))
    .map(({ who }) => who).sort();
  // framesOf: the camera frames a listener received so far, by member.
  window.framesOf = (c) => Object.fromEntries(cameraPubs(c).map(({ who, pub }) => [who,
    (series(c).get(pub.trackSid) || []).slice(-1).map((x) => x.frames)[0] || 0]));
  const taken = (c) => cameraPubs(c).filter(({ pub }) => pub.isSubscribed && pub.isEnabled).length;
  window.maxTaken = 0;
  window.timeline = [];
  window.expect = null;
  window.followedAt = 0;
  window.heardAt = 0;
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const tick = async () => {
    await Promise.all(window.calls.filter((c) => c.room).flatMap((c) => cameraPubs(c).map(({ pub }) => sample(c, pub))));
    for (const c of window.calls) if (c.room) window.maxTaken = Math.max(window.maxTaken, taken(c));
    if (window.expect && !window.heardAt && window.calls.every((c) => c.recent.slice(0, 2).includes(window.expect[0]))) {
      window.heardAt = Date.now();
    }
    // When each listener enabled the expected speaker's camera and first
    // got a frame of it: where a slow follow spends its time.
    if (window.expect) {
      for (const [i, c] of window.calls.entries()) {
        const pub = c.room && cameraPubs(c).find(({ who }) => who === window.expect[0]);
        if (!pub) continue;
        const tl = window.timeline[i] || (window.timeline[i] = {});
        if (!tl.enabled && pub.pub.isEnabled) tl.enabled = Date.now();
        if (tl.enabled && !tl.frame && flowing(c, pub.pub)) tl.frame = Date.now();
      }
    }
    if (window.expect && !window.followedAt && window.calls.every((c) => c.room && same(window.cameras(c), [...window.expect].sort()))) {
      window.followedAt = Date.now();
    }
    setTimeout(tick, 100);
  };
  tick();
  for (const join of joins) {
    const call = new window.LiveKitCall(join);
    call.addEventListener('closed', (e) => { window.closedReason = e.detail.reason; });
    window.calls.push(call);
    await call.start(null);
  }
}
