// TestCommitteeOnLiveKit (video/livekit), issue 15 acceptance 5 on
// LiveKit: the listeners of a committee call are rathaus's own call client
// (widgets/internal/webkit/lkcall.js, served from its sources as the pages
// serve it), in two pages, each listener its own LiveKit connection. The
// Go test runs LiveKit and the publishers and makes one after the other
// speak; this script reports when every listener shows the videos the Go
// side expects, and the most camera videos any listener took at any time.
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, launch, step, log } from '../lib/harness.mjs';

const PAGES = 2;
const KIT = fileURLToPath(new URL('../../../widgets/internal/webkit/', import.meta.url));
const PAGE = `<!doctype html><html lang="de"><head><title>Ausschuss</title>
<script type="module">
import { LiveKitCall } from '/kit/lkcall.js';
window.LiveKitCall = LiveKitCall;
window.kitReady = true;
</script></head><body></body></html>`;

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

  const browser = await launch({ args: ['--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required'] });
  const cfg = await step('ready');
  // The listeners in PAGES pages (a renderer process each), as they
  // would be on devices of their own rather than in one event loop.
  const per = Math.ceil(cfg.joins.length / PAGES);
  const pages = [];
  for (let i = 0; i < cfg.joins.length; i += per) {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.kitReady === true, null, { timeout: 30000 });
    pages.push({ page, joins: cfg.joins.slice(i, i + per) });
  }

  // ---- the listeners join ---------------------------------------------------
  // One at a time: a join is costly on two cores, and many at once run
  // into livekit-client's 15 s connection timeout.
  for (const { page, joins } of pages) await page.evaluate(LISTEN, { joins });
  log(`${cfg.joins.length} listeners joined in ${pages.length} pages`);
  const all = async (fn, arg) => Promise.all(pages.map(({ page }) => page.evaluate(fn, arg)));

  // ---- rounds: the Go side names who speaks and what every listener shows ----
  let next = await step('listening');
  while (next && next.expect) {
    const { expect } = next;
    await all((want) => { window.followedAt = 0; window.heardAt = 0; window.expect = want; }, expect);
    const deadline = Date.now() + 20000;
    for (;;) {
      const ats = await all(() => window.followedAt);
      if (ats.every((at) => at > 0)) {
        const heard = Math.max(...await all(() => window.heardAt));
        const max = Math.max(...await all(() => window.maxTaken));
        // A second later, what every listener receives: the shown videos
        // and nothing else.
        await new Promise((r) => setTimeout(r, 1000));
        const steady = {};
        for (const r of (await all(() => window.calls.map((c) => window.received(c).join(',')))).flat()) {
          steady[r] = (steady[r] || 0) + 1;
        }
        next = await step('followed', { at: Math.max(...ats), heard, max, steady });
        break;
      }
      if (Date.now() > deadline) {
        const counts = {};
        for (const seen of (await all(() => window.calls.map((c) => window.cameras(c).join(',')))).flat()) {
          counts[seen] = (counts[seen] || 0) + 1;
        }
        const first = await pages[0].page.evaluate(() => [...window.calls[0].room.remoteParticipants.values()]
          .flatMap((p) => [...p.trackPublications.values()].filter((pub) => pub.source === 'camera').map((pub) => ({
            who: p.identity, enabled: pub.isEnabled, subscribed: pub.isSubscribed, status: pub.subscriptionStatus,
          }))));
        const closed = (await all(() => window.closedReason || '')).filter(Boolean);
        throw new Error(`listeners do not show ${expect.join(', ')} within 20 s: ${JSON.stringify(counts)}; `
          + `the first listener's cameras: ${JSON.stringify(first)}; closed: ${JSON.stringify(closed)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await all(() => { for (const c of window.calls) c.leave(); });
  server.close();
});

// LISTEN runs in a page: its listeners join, and a 20 ms tick records the
// most camera videos any of them took, and when all of them first knew
// the expected speaker (heardAt) and received the expected videos
// (followedAt).
async function LISTEN({ joins }) {
  window.calls = [];
  // flowing: whether packets of a track arrived in the last 300 ms (the
  // publishers send ten frames a second).
  const flowing = (pub) => {
    const r = pub.track && pub.track.receiver;
    const src = r ? r.getSynchronizationSources() : [];
    return src.length > 0 && performance.timeOrigin + performance.now() - src[0].timestamp < 300;
  };
  const cameraPubs = (c) => [...c.room.remoteParticipants.values()]
    .flatMap((p) => [...p.trackPublications.values()].filter((pub) => pub.source === 'camera').map((pub) => ({ who: p.identity, pub })));
  // cameras: the publishers whose camera video a listener takes and
  // receives; received: whose it receives, taken or not; taken: how many
  // camera videos a listener takes (subscribed and enabled).
  window.cameras = (c) => cameraPubs(c).filter(({ pub }) => pub.isSubscribed && pub.isEnabled && flowing(pub))
    .map(({ who }) => who).sort();
  window.received = (c) => cameraPubs(c).filter(({ pub }) => flowing(pub)).map(({ who }) => who).sort();
  const taken = (c) => cameraPubs(c).filter(({ pub }) => pub.isSubscribed && pub.isEnabled).length;
  window.maxTaken = 0;
  window.expect = null;
  window.followedAt = 0;
  window.heardAt = 0;
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  setInterval(() => {
    for (const c of window.calls) if (c.room) window.maxTaken = Math.max(window.maxTaken, taken(c));
    if (window.expect && !window.heardAt && window.calls.every((c) => c.recent.slice(0, 2).includes(window.expect[0]))) {
      window.heardAt = Date.now();
    }
    if (window.expect && !window.followedAt && window.calls.every((c) => c.room && same(window.cameras(c), [...window.expect].sort()))) {
      window.followedAt = Date.now();
    }
  }, 20);
  for (const join of joins) {
    const call = new window.LiveKitCall(join);
    call.addEventListener('closed', (e) => { window.closedReason = e.detail.reason; });
    window.calls.push(call);
    await call.start(null);
  }
}
