// The citizen's video consultation in the guest chat: device check, knock,
// wait (with position, in a live region), and the call with the kit's
// call client. The page never admits itself: it polls its state (and
// fetches it at once when the case's event stream says it changed) and
// joins only with the grant the server hands out after a caseworker
// admitted.
import { api, ApiError } from './api.js';
import { t } from './i18n.js';
import { $, el, show } from './kit/dom.js';
import { callFor } from './kit/rtc.js';
import * as devices from './kit/devices.js';

const POLL_MS = 2000;

export function createVideo() {
  let caseId = '';
  let preview = null;
  let audioOnly = false;
  let poll = 0;
  let call = null;
  let joining = false;
  const tiles = new Map();

  const section = $('video');
  const setState = (state) => { section.dataset.videoState = state; };

  function outcome(key) {
    const box = $('video-outcome');
    box.textContent = key ? t(key) : '';
    show(box, Boolean(key));
  }

  function idle(key) {
    stopPolling();
    show($('video-devices'), false);
    show($('video-waiting'), false);
    show($('video-call'), false);
    show($('video-start'), true);
    outcome(key);
    setState(key ? key.replace('video.', '') : 'idle');
  }

  async function openDevices(choice = {}) {
    devices.stop(preview);
    const got = await devices.open(choice);
    preview = got.stream;
    $('video-preview').srcObject = preview;
    const problem = $('video-problem');
    problem.textContent = got.reason ? t(`video.device.${got.reason}`) : '';
    show(problem, Boolean(got.reason));
    const hasVideo = Boolean(preview && preview.getVideoTracks().length);
    $('video-knock').disabled = !hasVideo;
    $('video-audio-only').disabled = !preview;
    await devices.fillSelects($('video-camera'), $('video-mic'), choice);
  }

  async function deviceCheck() {
    outcome('');
    show($('video-start'), false);
    show($('video-devices'), true);
    setState('device-check');
    $('video-devices-heading').focus();
    await openDevices();
  }

  function cancelDevices() {
    devices.stop(preview);
    preview = null;
    idle('');
    $('video-start').focus();
  }

  function stopPolling() {
    clearInterval(poll);
    poll = 0;
  }

  async function knock(withVideo) {
    audioOnly = !withVideo;
    try {
      const v = await api.videoKnock(caseId);
      show($('video-devices'), false);
      show($('video-waiting'), true);
      setState('waiting');
      apply(v);
      $('video-wait-cancel').focus();
      poll = setInterval(refresh, POLL_MS);
    } catch (err) {
      const problem = $('video-problem');
      problem.textContent = t(err instanceof ApiError && err.status === 429 ? 'video.tooSoon' : 'video.lost');
      show(problem, true);
    }
  }

  async function refresh() {
    try {
      apply(await api.video(caseId));
    } catch {
      // A lost poll is retried at the next tick.
    }
  }

  function apply(v) {
    switch (v.state) {
      case 'waiting':
        $('video-wait-text').textContent = t(v.staff_present ? 'video.waitingStaff' : 'video.waiting', { position: v.position || 1 });
        break;
      case 'admitted':
        if (!call && !joining && v.join) join(v.join);
        break;
      case 'denied': devices.stop(preview); preview = null; idle('video.denied'); break;
      case 'expired': devices.stop(preview); preview = null; idle('video.expired'); break;
      case 'ended': devices.stop(preview); preview = null; idle('video.ended'); break;
      default: break;
    }
  }

  async function leaveLobby() {
    stopPolling();
    devices.stop(preview);
    preview = null;
    await api.videoLeave(caseId).catch(() => {});
    idle('');
    $('video-start').focus();
  }

  function tile(key, caption) {
    let entry = tiles.get(key);
    if (!entry) {
      const video = el('video', { attrs: { autoplay: true, playsinline: true } });
      entry = { node: el('figure', { class: 'video-tile video-remote', data: { participant: key } }, video, el('figcaption', { text: caption })), video };
      tiles.set(key, entry);
      $('video-tiles').prepend(entry.node);
    }
    return entry;
  }

  async function join(info) {
    joining = true;
    stopPolling();
    show($('video-waiting'), false);
    show($('video-call'), true);
    setState('connecting');
    $('video-call-status').textContent = t('video.connecting');
    const stream = preview;
    if (stream && audioOnly) for (const tr of stream.getVideoTracks()) { tr.stop(); stream.removeTrack(tr); }
    $('video-self').srcObject = stream;
    call = await callFor(info);
    window.__rathausCall = call;
    call.addEventListener('track', ({ detail: { stream: s, track, screen } }) => {
      if (screen) {
        tile(`${s.id}/screen`, t('video.screen')).video.srcObject = new MediaStream([track]);
      } else {
        tile(s.id, t('video.caseworker')).video.srcObject = s;
      }
    });
    call.addEventListener('trackended', ({ detail: { stream: s, screen } }) => {
      // The caseworker stopped sharing: the screen's tile goes (a camera
      // tile stays, showing the participant even with the camera off).
      if (!screen) return;
      const entry = tiles.get(`${s.id}/screen`);
      if (entry) { entry.node.remove(); tiles.delete(`${s.id}/screen`); }
    });
    call.addEventListener('participant', ({ detail }) => {
      if (detail.event !== 'left') return;
      for (const key of [detail.participant.id, `${detail.participant.id}/screen`]) {
        const entry = tiles.get(key);
        if (entry) { entry.node.remove(); tiles.delete(key); }
      }
    });
    call.addEventListener('mute_request', () => {
      show($('video-mute-request'), true);
      $('video-mute-now').focus();
    });
    call.addEventListener('closed', ({ detail }) => {
      call = null;
      hangUp(detail.reason === 'kicked' ? 'video.kicked' : detail.reason === 'ended' ? 'video.ended' : 'video.lost', false);
    });
    try {
      await call.start(stream);
      $('video-call-status').textContent = t('video.inCall');
      setState('in-call');
      $('video-hangup').focus();
    } catch {
      hangUp('video.lost', true);
    } finally {
      joining = false;
    }
  }

  function hangUp(key, tell = true) {
    if (call) call.leave();
    call = null;
    for (const entry of tiles.values()) entry.node.remove();
    tiles.clear();
    devices.stop(preview);
    preview = null;
    show($('video-mute-request'), false);
    if (tell) api.videoLeave(caseId).catch(() => {});
    idle(key);
    $('video-start').focus();
  }

  function toggle(button, kind, onKey, offKey) {
    const muted = button.getAttribute('aria-pressed') !== 'true';
    button.setAttribute('aria-pressed', String(muted));
    button.textContent = t(muted ? onKey : offKey);
    if (call) call.setMuted(kind, muted);
  }

  function wire() {
    const run = (fn) => () => { fn().catch(() => {}); };
    $('video-start').addEventListener('click', run(deviceCheck));
    $('video-camera').addEventListener('change', run(() => openDevices({ camera: $('video-camera').value, mic: $('video-mic').value })));
    $('video-mic').addEventListener('change', run(() => openDevices({ camera: $('video-camera').value, mic: $('video-mic').value })));
    $('video-knock').addEventListener('click', run(() => knock(true)));
    $('video-audio-only').addEventListener('click', run(() => knock(false)));
    $('video-devices-cancel').addEventListener('click', cancelDevices);
    $('video-devices').addEventListener('keydown', (ev) => { if (ev.key === 'Escape') cancelDevices(); });
    $('video-wait-cancel').addEventListener('click', run(leaveLobby));
    $('video-hangup').addEventListener('click', () => hangUp('', true));
    $('video-mic-toggle').addEventListener('click', () => toggle($('video-mic-toggle'), 'audio', 'video.micOn', 'video.micOff'));
    $('video-cam-toggle').addEventListener('click', () => toggle($('video-cam-toggle'), 'video', 'video.camOn', 'video.camOff'));
    $('video-mute-now').addEventListener('click', () => {
      const b = $('video-mic-toggle');
      if (b.getAttribute('aria-pressed') !== 'true') toggle(b, 'audio', 'video.micOn', 'video.micOff');
      show($('video-mute-request'), false);
      b.focus();
    });
    for (const node of section.querySelectorAll('[data-i18n-label]')) node.setAttribute('aria-label', t(node.dataset.i18nLabel));
  }

  let wired = false;
  return {
    // start shows the section for an open case when video is offered; it
    // picks up a knock or admission that survived a reload.
    start(c, info) {
      caseId = c.id;
      const offered = Boolean(info && info.video) && c.open;
      show(section, offered);
      if (!offered) return;
      if (!wired) { wire(); wired = true; }
      refresh();
    },
    // changed: the case's event stream says the citizen's state in the
    // call changed (a caseworker admitted or denied, the wait expired, the
    // call ended); a waiting page fetches it now instead of at its next
    // poll, so the call opens the moment the citizen is let in.
    changed() {
      if (poll) refresh();
    },
    // closed: the case ended; the call ends with it.
    closed() {
      if (call) hangUp('video.ended', false);
      show(section, false);
    },
  };
}
