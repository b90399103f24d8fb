// The citizen and the caseworker of TestBrowserVideoCall (cmd/rathaus):
// real Chromium with fake camera and microphone, the real binary, Dendrite
// and the embedded media server (issue 14, acceptance 1, 2 and 8). The
// citizen knocks from the guest chat before any caseworker is there and
// keeps waiting; the caseworker signs in to the staff call page in a host
// page with the real ClientWidgetApi and joins; a command from a Matrix
// client admits the citizen; both pages decode the other's video and
// audio; the caseworker removes the citizen. Everything by keyboard; axe
// checks the device check, the lobby and both call views.
import { run, launch, step, log, checkA11y, allowConsoleErrors } from '../lib/harness.mjs';

const MEDIA_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required'];

run(async () => {
  const browser = await launch({ args: MEDIA_ARGS });
  const cfg = await step('ready');
  const a11y = [];
  const check = async (page, label) => {
    const r = await checkA11y(page, label);
    a11y.push({ label, passes: r.passes });
  };

  // ---- the citizen opens a case and knocks --------------------------------
  // The pages send what the server and the browser agree on first (VP8);
  // with cfg.codec H264 both pages put H.264 (constrained baseline,
  // packetization mode 1) first, as a browser without VP8 would.
  const callPage = async () => {
    const ctx = await browser.newContext({ locale: 'de-DE' });
    if (cfg.codec === 'H264') await ctx.addInitScript(preferH264);
    return ctx.newPage();
  };
  const citizen = await callPage();
  await citizen.goto(`${cfg.base}/chat/bauamt`);
  await citizen.waitForSelector('#entry:not([hidden])', { timeout: 30000 });
  await citizen.fill('#question', 'Ich verstehe den Bauplan nicht.');
  await citizen.click('#submit');
  await citizen.waitForSelector('#chat:not([hidden])', { timeout: 60000 });
  const reference = (await citizen.textContent('#case-reference')).trim();
  await citizen.waitForSelector('#video:not([hidden])', { timeout: 30000 });
  await citizen.focus('#video-start');
  await citizen.keyboard.press('Enter');
  await citizen.waitForSelector('#video[data-video-state="device-check"]');
  await citizen.waitForFunction(() => {
    const v = document.querySelector('#video-preview');
    return v.srcObject && v.srcObject.getVideoTracks().length > 0 && !document.querySelector('#video-knock').disabled;
  }, null, { timeout: 15000 });
  expectEqual(await citizen.evaluate(() => document.activeElement.id), 'video-devices-heading', 'focus moves into the device check');
  await check(citizen, 'citizen: device check');
  await citizen.focus('#video-knock');
  await citizen.keyboard.press('Enter');
  await citizen.waitForSelector('#video[data-video-state="waiting"]', { timeout: 15000 });
  await citizen.waitForFunction(() => document.querySelector('#video-wait-text').textContent.includes('Position: 1'), null, { timeout: 15000 });
  expectEqual(await citizen.getAttribute('#video-wait-text', 'aria-live'), 'polite', 'the waiting text is announced');
  await check(citizen, 'citizen: lobby');
  const ctl = await step('waiting', { reference });

  // ---- a caseworker claimed the case and started the call ---------------
  // (the Go test did both): the citizen still waits.
  await citizen.waitForFunction(() => document.querySelector('#video-wait-text').textContent.includes('schon im Videoraum')
    || document.querySelector('#video-wait-text').textContent.includes('Position: 1'), null, { timeout: 15000 });
  expectEqual(await citizen.getAttribute('#video', 'data-video-state'), 'waiting', 'the citizen keeps waiting after a caseworker came');

  // ---- the caseworker's page -------------------------------------------------
  const open = async (token) => {
    const page = await callPage();
    allowConsoleErrors(page, /status of 403/);
    await page.goto(cfg.host);
    await page.evaluate((args) => window.openWidget(args), { widget: ctl.widget, roomId: ctl.room, userId: cfg.userId, lang: 'de', token });
    const frame = await (await page.waitForSelector('iframe')).contentFrame();
    await frame.waitForSelector('body[data-state]', { timeout: 30000 });
    return { page, frame };
  };
  const { page: host, frame: staff } = await open(cfg.tokens.anna);
  expectEqual(await staff.getAttribute('body', 'data-state'), 'ready', 'the caseworker signs in');
  await staff.waitForSelector('#waiting li', { timeout: 15000 });
  await check(staff, 'staff: lobby');
  await staff.focus('#join');
  await host.keyboard.press('Enter');
  await staff.waitForSelector('#panel[data-video-state="device-check"]');
  await staff.waitForFunction(() => !document.querySelector('#device-ok').disabled, null, { timeout: 15000 });
  await check(staff, 'staff: device check');
  await staff.focus('#device-ok');
  await host.keyboard.press('Enter');
  await staff.waitForSelector('#panel[data-video-state="in-call"]', { timeout: 15000 });
  await staff.waitForFunction(() => window.__rathausCall && window.__rathausCall.pc
    && window.__rathausCall.pc.connectionState === 'connected', null, { timeout: 15000 });
  await step('staff-in-call');

  // ---- admitted by command (the Go test sent it) --------------------------
  const admittedAt = Date.now();
  await citizen.waitForSelector('#video[data-video-state="in-call"]', { timeout: 15000 });
  const decoding = (frame) => until(frame, async () => {
    const pc = window.__rathausCall && window.__rathausCall.pc;
    if (!pc) return false;
    const stats = await pc.getStats();
    let frames = 0;
    stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0; });
    return frames > 0;
  }, 5000);
  await decoding(citizen);
  const citizenDecodedAfter = Date.now() - admittedAt;
  await decoding(staff);
  const staffDecodedAfter = Date.now() - admittedAt;
  log(`citizen decodes ${citizenDecodedAfter} ms, staff ${staffDecodedAfter} ms after the admission`);

  // ---- 10 s of call: frame rate, loss, audio ------------------------------
  const sample = (frame) => frame.evaluate(async () => {
    const stats = await window.__rathausCall.pc.getStats();
    const out = { frames: 0, lost: 0, audioEnergy: 0, audioPackets: 0, video: [], codecs: [], sent: [] };
    stats.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        // What the page sends per simulcast layer, and what limits it
        // (cpu, bandwidth): to tell a slow sender from a slow path.
        out.sent.push({ rid: s.rid, w: s.frameWidth, fps: s.framesPerSecond, frames: s.framesSent, limit: s.qualityLimitationReason });
      }
      if (s.type === 'inbound-rtp' && s.codecId && stats.get(s.codecId)) {
        out.codecs.push(stats.get(s.codecId).mimeType);
      }
      if (s.type !== 'inbound-rtp') return;
      out.lost += s.packetsLost || 0;
      if (s.kind === 'video') {
        out.frames += s.framesDecoded || 0;
        out.video.push({ id: s.trackIdentifier, received: s.framesReceived, dropped: s.framesDropped, keys: s.keyFramesDecoded,
          w: s.frameWidth, plis: s.pliCount, nacks: s.nackCount, freezes: s.freezeCount, packets: s.packetsReceived });
      }
      if (s.kind === 'audio') { out.audioEnergy += s.totalAudioEnergy || 0; out.audioPackets += s.packetsReceived || 0; }
    });
    return out;
  });
  // The first seconds are the ramp-up (bandwidth estimate, simulcast
  // layers climbing at keyframes); the 10 s measured follow it: from when
  // both pages' received picture has kept its size and keyframe count
  // for 3 s, on the full layer or, if the path gives less, after 12 s
  // (at most 25 s; the layer switches before are logged). A picture that
  // merely has not started to climb yet is not steady.
  const steadyAfter = await Promise.all([steady(citizen), steady(staff)]);
  log(`steady after ${steadyAfter[0].ms} ms (citizen: ${steadyAfter[0].trail}), ${steadyAfter[1].ms} ms (staff: ${steadyAfter[1].trail})`);
  const [c0, s0] = [await sample(citizen), await sample(staff)];
  await new Promise((r) => setTimeout(r, 10000));
  const [c1, s1] = [await sample(citizen), await sample(staff)];
  const fps = { citizen: (c1.frames - c0.frames) / 10, staff: (s1.frames - s0.frames) / 10 };
  const lostIn = { citizen: c1.lost - c0.lost, staff: s1.lost - s0.lost };
  log(`frames/s: citizen ${fps.citizen}, staff ${fps.staff}; lost in the 10 s: ${lostIn.citizen}, ${lostIn.staff} (since the start: ${c1.lost}, ${s1.lost}); audio packets ${c1.audioPackets}, ${s1.audioPackets}`);
  log(`citizen receives ${JSON.stringify(c1.video)}; staff receives ${JSON.stringify(s1.video)}`);
  log(`citizen sends ${JSON.stringify(c1.sent)}; staff sends ${JSON.stringify(s1.sent)}`);
  await check(citizen, 'citizen: call view');
  await check(staff, 'staff: call view');
  await step('measured', {
    citizenDecodedAfter, staffDecodedAfter, fps, lost: lostIn, codecs: { citizen: c1.codecs, staff: s1.codecs },
    audio: { citizen: [c1.audioPackets, c1.audioEnergy], staff: [s1.audioPackets, s1.audioEnergy] },
  });

  // ---- the caseworker shares the screen; the citizen sees it, then not ---
  await staff.focus('#share');
  await host.keyboard.press('Enter');
  await until(staff, () => document.querySelector('#share').getAttribute('aria-pressed') === 'true', 10000);
  const sharedAt = Date.now();
  await until(citizen, () => {
    const v = document.querySelector('figure[data-participant$="/screen"] video');
    return Boolean(v && v.videoWidth > 0);
  }, 10000);
  const screenAfter = Date.now() - sharedAt;
  expectEqual((await citizen.textContent('figure[data-participant$="/screen"] figcaption')).trim(),
    'Bildschirm der Sachbearbeitung', 'the screen tile says whose screen it is');
  await check(citizen, 'citizen: caseworker\'s screen');
  await staff.focus('#share');
  await host.keyboard.press('Enter');
  await until(citizen, () => !document.querySelector('figure[data-participant$="/screen"]'), 10000);
  log(`the citizen sees the caseworker's screen ${screenAfter} ms after sharing; its tile goes when sharing stops`);

  // ---- a request to mute: the citizen's page asks, never mutes by itself ----
  await staff.focus('#ask-mute');
  await host.keyboard.press('Enter');
  await citizen.waitForSelector('#video-mute-request:not([hidden])', { timeout: 5000 });
  expectEqual(await citizen.getAttribute('#video-mic-toggle', 'aria-pressed'), 'false', 'the microphone stays on until the citizen decides');
  expectEqual(await citizen.evaluate(() => document.activeElement.id), 'video-mute-now', 'focus moves to the prompt');
  await citizen.keyboard.press('Enter');
  expectEqual(await citizen.getAttribute('#video-mic-toggle', 'aria-pressed'), 'true', 'muted at the citizen\'s word');

  // ---- the caseworker removes the citizen -----------------------------------
  await staff.focus('#kick');
  await host.keyboard.press('Enter');
  const kickedAt = Date.now();
  await citizen.waitForFunction(() => !window.__rathausCall || ['closed', 'failed'].includes(window.__rathausCall.pc.connectionState)
    || document.querySelector('#video').dataset.videoState === 'kicked', null, { timeout: 2000, polling: 50 });
  const closedAfter = Date.now() - kickedAt;
  await citizen.waitForFunction(() => document.querySelector('#video-outcome').textContent.includes('beendet'), null, { timeout: 5000 });
  await staff.waitForFunction(() => document.querySelector('#done').textContent.includes('entfernt'), null, { timeout: 5000 });
  log(`citizen's peer connection closed ${closedAfter} ms after the kick`);
  await step('kicked', { closedAfter });

  // ---- the citizen comes back with sound only, admitted on the staff page ---
  await citizen.focus('#video-start');
  await citizen.keyboard.press('Enter');
  await citizen.waitForFunction(() => !document.querySelector('#video-audio-only').disabled, null, { timeout: 15000 });
  await citizen.focus('#video-audio-only');
  await citizen.keyboard.press('Enter');
  await citizen.waitForSelector('#video[data-video-state="waiting"]', { timeout: 15000 });
  await staff.waitForSelector('#waiting button[data-action="admit"]', { timeout: 15000 });
  await staff.focus('#waiting button[data-action="admit"]');
  await host.keyboard.press('Enter');
  await citizen.waitForSelector('#video[data-video-state="in-call"]', { timeout: 15000 });
  await decoding(citizen); // the caseworker's video still reaches the citizen
  const inbound = (frame) => frame.evaluate(async () => {
    const out = { audio: 0, video: 0 };
    (await window.__rathausCall.pc.getStats()).forEach((st) => {
      if (st.type === 'inbound-rtp') out[st.kind] += st.packetsReceived || 0;
    });
    return out;
  });
  const sent = await citizen.evaluate(() => window.__rathausCall.pc.getSenders()
    .filter((x) => x.track).map((x) => x.track.kind).sort().join(','));
  expectEqual(sent, 'audio', 'the citizen sends sound only');
  const a0 = await inbound(staff);
  await new Promise((r) => setTimeout(r, 3000));
  const a1 = await inbound(staff);
  if (!(a1.audio > a0.audio)) throw new Error(`the caseworker hears nothing: ${JSON.stringify([a0, a1])}`);
  log(`audio only: the caseworker received ${a1.audio - a0.audio} audio packets in 3 s from the citizen`);
  await check(citizen, 'citizen: call with sound only');
  await citizen.focus('#video-hangup');
  await citizen.keyboard.press('Enter');
  await citizen.waitForFunction(() => !window.__rathausCall || window.__rathausCall.pc.connectionState === 'closed', null, { timeout: 5000 });

  // ---- the citizen knocks again and is turned away --------------------------
  await citizen.focus('#video-start');
  await citizen.keyboard.press('Enter');
  await citizen.waitForFunction(() => !document.querySelector('#video-knock').disabled, null, { timeout: 15000 });
  await citizen.focus('#video-knock');
  await citizen.keyboard.press('Enter');
  await citizen.waitForSelector('#video[data-video-state="waiting"]', { timeout: 15000 });
  await staff.waitForSelector('#waiting button[data-action="deny"]', { timeout: 15000 });
  await staff.focus('#waiting button[data-action="deny"]');
  await host.keyboard.press('Enter');
  await citizen.waitForSelector('#video[data-video-state="denied"]', { timeout: 10000 });
  expectEqual((await citizen.textContent('#video-outcome')).trim(),
    'Die Sachbearbeitung hat die Videoberatung gerade nicht angenommen. Sie können weiter hier schreiben.', 'the page says so');
  await check(citizen, 'citizen: denied');

  // ---- sign-in refusals -------------------------------------------------------
  for (const [who, code] of [['ghost', 'forbidden'], ['stranger', 'not_member'], ['evil', 'forbidden']]) {
    const r = await open(who === 'ghost' ? ctl.ghostToken : cfg.tokens[who]);
    expectEqual(await r.frame.getAttribute('body', 'data-state'), 'refused', `${who} is refused`);
    expectEqual(await r.frame.getAttribute('body', 'data-code'), code, `${who}'s refusal`);
    if (await r.frame.isVisible('#panel')) throw new Error(`${who} sees the call`);
  }
  // ---- outside a widget host: the member signs in at the homeserver ------
  // (a link from a client without widgets, e.g. Element X). By keyboard;
  // a wrong password is named, a non-member is refused after signing in.
  const standalone = async (user, password) => {
    const page = await (await browser.newContext({ locale: 'de-DE' })).newPage();
    allowConsoleErrors(page, /status of 40[13]/);
    await page.goto(`${cfg.base}/widgets/video/?roomId=${encodeURIComponent(ctl.room)}`);
    await page.waitForSelector('body[data-state="signin"]', { timeout: 30000 });
    expectEqual(await page.evaluate(() => document.activeElement.id), 'signin-heading', 'focus on the sign-in');
    await page.keyboard.press('Tab');
    expectEqual(await page.evaluate(() => document.activeElement.id), 'signin-user', 'the user name comes first');
    await page.keyboard.type(user);
    await page.keyboard.press('Tab');
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
    return page;
  };
  const wrong = await standalone(cfg.signIn.user, 'falsches-passwort');
  await until(wrong, () => document.querySelector('#error').textContent.includes('stimmen nicht'), 15000);
  expectEqual(await wrong.evaluate(() => document.activeElement.id), 'signin-password', 'focus back on the password');
  expectEqual(await wrong.inputValue('#signin-password'), '', 'the wrong password is cleared');
  await check(wrong, 'staff: sign-in, wrong password');
  await wrong.keyboard.type(cfg.signIn.password);
  await wrong.keyboard.press('Enter');
  await wrong.waitForSelector('body[data-state="ready"]', { timeout: 30000 });
  if (!(await wrong.isVisible('#panel')) || (await wrong.isVisible('#signin'))) throw new Error('signed in, but the call is not shown');
  await until(wrong, () => document.querySelector('#call-status').textContent.includes('läuft seit'), 15000);
  await check(wrong, 'staff: signed in outside Element');
  if (cfg.signIn.loginToken) {
    // Back from SSO: the homeserver hands the page a login token.
    const sso = await (await browser.newContext({ locale: 'de-DE' })).newPage();
    await sso.goto(`${cfg.base}/widgets/video/?roomId=${encodeURIComponent(ctl.room)}&loginToken=${encodeURIComponent(cfg.signIn.loginToken)}`);
    await sso.waitForSelector('body[data-state="ready"]', { timeout: 30000 });
    if (new URL(sso.url()).searchParams.has('loginToken')) throw new Error('the login token stays in the address');
    await until(sso, () => document.querySelector('#call-status').textContent.includes('läuft seit'), 15000);
    log('signed in with a login token, as after SSO');
  }
  const outsider = await standalone(cfg.signIn.strangerUser, cfg.signIn.strangerPassword);
  await outsider.waitForSelector('body[data-state="refused"]', { timeout: 30000 });
  expectEqual(await outsider.getAttribute('body', 'data-code'), 'not_member', 'a non-member signed in is refused');
  log('signed in outside a widget host: refused the wrong password and the non-member');

  log(`axe checked ${a11y.length} states`);
  await step('done', { a11y });
});

// preferH264 runs in the pages before their scripts: every video
// transceiver they add prefers H.264 constrained baseline, packetization
// mode 1.
function preferH264() {
  const add = RTCPeerConnection.prototype.addTransceiver;
  RTCPeerConnection.prototype.addTransceiver = function addTransceiver(...args) {
    const t = add.apply(this, args);
    const kind = typeof args[0] === 'string' ? args[0] : args[0].kind;
    if (kind === 'video') {
      const codecs = RTCRtpReceiver.getCapabilities('video').codecs;
      const h264 = codecs.filter((c) => c.mimeType === 'video/H264' && /packetization-mode=1/.test(c.sdpFmtpLine || '')
        && /profile-level-id=42e01f/.test(c.sdpFmtpLine || ''));
      t.setCodecPreferences([...h264, ...codecs.filter((c) => !h264.includes(c))]);
    }
    return t;
  };
}

// steady waits until a page's received video has kept its width and its
// count of decoded keyframes for 3 s (each layer switch brings a
// keyframe) on the full layer (fullWidth), or on any layer after 12 s, at
// most 25 s; it returns how long that took and the widths and keyframe
// counts seen.
const fullWidth = 960; // the camera size devices.js asks for
async function steady(frame) {
  const start = Date.now();
  let last = '';
  let since = Date.now();
  const trail = [];
  while (Date.now() - start < 25000) {
    const now = await frame.evaluate(async () => {
      let w = 0;
      let keys = 0;
      (await window.__rathausCall.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') { w = Math.max(w, s.frameWidth || 0); keys += s.keyFramesDecoded || 0; }
      });
      return `${w}px/${keys}k`;
    });
    if (now !== last) { trail.push(now); last = now; since = Date.now(); }
    const width = parseInt(now, 10);
    if (Date.now() - since >= 3000 && width > 0 && (width >= fullWidth || Date.now() - start >= 12000)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { ms: Date.now() - start, trail: trail.join(' → ') };
}

// until polls an async predicate in a frame (waitForFunction would take
// its promise for a truthy answer).
async function until(frame, predicate, timeout) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await frame.evaluate(predicate)) return;
    if (Date.now() > deadline) throw new Error(`not within ${timeout} ms: ${predicate}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function expectEqual(got, want, what) {
  if (got !== want) throw new Error(`${what}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
