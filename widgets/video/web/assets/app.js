// The staff call page: signs in through the widget API's OpenID token (as
// the ticket widget does) or, outside a widget host, through the member's
// own sign-in at their homeserver (signin.js); shows the lobby and the
// call of the case room, and joins the embedded media server with the
// kit's call client.
// Everything the server sends goes into textContent only.
import { $, el, show, applyTexts, showError, clearError } from './kit/dom.js';
import { addTexts, setLang, t, formatTime } from './kit/i18n.js';
import { ApiError } from './kit/api.js';
import { createWidgetSession, errorText, refuse as refuseView } from './kit/widgetsession.js';
import { callFor } from './kit/rtc.js';
import * as devices from './kit/devices.js';
import { texts } from './texts.js';
import { signInStandalone } from './signin.js';

const POLL_MS = 2000;
const ws = createWidgetSession();
const act = ws.act;
const request = ws.request;

addTexts(texts);
setLang(document.documentElement.lang);
applyTexts();
for (const node of document.querySelectorAll('[data-i18n-label]')) node.setAttribute('aria-label', t(node.dataset.i18nLabel));

let call = null;
let preview = null;
let waitingBefore = 0;
const tiles = new Map();
const roles = new Map();

const refuse = (err) => {
  show($('signin'), false);
  refuseView(err, 'panel');
};

function setState(state) {
  $('panel').dataset.videoState = state;
}




function announce(text) {
  const done = $('done');
  done.textContent = text;
  show(done, true);
}

async function run(fn) {
  clearError();
  show($('done'), false);
  try {
    await fn();
  } catch (err) {
    showError(errorText(err));
  }
}

function render(data) {
  $('call-status').textContent = data.running
    ? t('call.running', { time: formatTime(new Date(data.started)) }) : t('call.idle');
  $('participants').replaceChildren(...data.participants.map((p) => el('li', {
    text: t('call.participant', {
      who: p.role === 'citizen' ? t('role.citizen') : p.identity,
      what: t(p.publishing ? 'participant.publishing' : 'participant.listening'),
    }),
  }, ...qualityLine(p.quality))));
  show($('lobby-empty'), data.waiting.length === 0);
  $('waiting').replaceChildren(...data.waiting.map((k) => {
    const admit = el('button', { class: 'button primary', text: t('lobby.admit'), attrs: { type: 'button' }, data: { identity: k.identity, action: 'admit' } });
    const deny = el('button', { class: 'button secondary', text: t('lobby.deny'), attrs: { type: 'button' }, data: { identity: k.identity, action: 'deny' } });
    return el('li', {}, el('span', { text: t('lobby.waiting', { time: formatTime(new Date(k.since)) }) }), admit, deny);
  }));
  if (data.waiting.length > waitingBefore) $('lobby-status').textContent = t('lobby.announce');
  waitingBefore = data.waiting.length;
}

// qualityLine says how a participant's connection does, once measured:
// the round trip and the worse of the two loss figures.
function qualityLine(q) {
  if (!q) return [];
  const loss = Math.round(100 * Math.max(q.receive_loss, q.send_loss));
  return [el('span', {
    class: q.poor ? 'quality poor' : 'quality',
    text: t(q.poor ? 'participant.poor' : 'participant.quality', { rtt: q.rtt_ms, loss }),
  })];
}

async function refresh() {
  try {
    render(await act('GET', 'call'));
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'not_member' || err.code === 'forbidden')) refuse(err);
  }
}

// The device check: a preview and the device lists; the choice decides
// what the call sends.
async function openDevices(choice = {}) {
  devices.stop(preview);
  const got = await devices.open(choice);
  preview = got.stream;
  $('preview').srcObject = preview;
  const problem = $('device-problem');
  problem.textContent = got.reason ? t(`device.${got.reason}`) : '';
  show(problem, Boolean(got.reason));
  $('device-ok').disabled = !preview || preview.getVideoTracks().length === 0;
  $('audio-only').disabled = got.reason === 'denied' || got.reason === 'unsupported';
  await devices.fillSelects($('camera'), $('mic'), choice);
}

async function showDevices() {
  setState('device-check');
  show($('join'), false);
  show($('devices'), true);
  $('devices-heading').focus();
  await openDevices();
}

function hideDevices() {
  devices.stop(preview);
  preview = null;
  show($('devices'), false);
  show($('join'), true);
  setState('idle');
  $('join').focus();
}

function tileFor(streamId) {
  let tile = tiles.get(streamId);
  if (!tile) {
    const video = el('video', { attrs: { autoplay: true, playsinline: true } });
    const caption = el('figcaption', { text: roles.get(streamId) === 'staff' ? t('role.staff') : t('incall.citizen') });
    tile = { node: el('figure', { class: 'tile remote', data: { participant: streamId } }, video, caption), video, streams: new Map() };
    tiles.set(streamId, tile);
    $('tiles').prepend(tile.node);
  }
  return tile;
}

function onTrack({ detail: { stream, track, screen } }) {
  if (screen) {
    const key = `${stream.id}/screen`;
    let tile = tiles.get(key);
    if (!tile) {
      const video = el('video', { attrs: { autoplay: true, playsinline: true } });
      tile = { node: el('figure', { class: 'tile remote screen' }, video, el('figcaption', { text: t('incall.screen') })), video };
      tiles.set(key, tile);
      $('tiles').prepend(tile.node);
    }
    tile.video.srcObject = new MediaStream([track]);
    return;
  }
  const tile = tileFor(stream.id);
  tile.video.srcObject = stream;
}

function onTrackEnded({ detail: { stream } }) {
  for (const key of [stream.id, `${stream.id}/screen`]) {
    const tile = tiles.get(key);
    if (tile && (!tile.video.srcObject || tile.video.srcObject.getTracks().every((x) => x.readyState === 'ended'))) {
      tile.node.remove();
      tiles.delete(key);
    }
  }
}

function endCall(text) {
  if (call) call.leave();
  call = null;
  devices.stop(preview);
  preview = null;
  for (const tile of tiles.values()) tile.node.remove();
  tiles.clear();
  show($('in-call'), false);
  show($('join'), true);
  setState('ended');
  if (text) announce(text);
  $('join').focus();
}

async function join(video) {
  const stream = preview;
  if (!stream) return;
  if (!video) for (const tr of stream.getVideoTracks()) { tr.stop(); stream.removeTrack(tr); }
  const info = await act('POST', 'join');
  call = await callFor(info);
  window.__rathausCall = call;
  call.addEventListener('track', onTrack);
  call.addEventListener('trackended', onTrackEnded);
  call.addEventListener('joined', ({ detail }) => {
    for (const p of detail.participants) roles.set(p.id, p.role);
  });
  call.addEventListener('participant', ({ detail }) => {
    roles.set(detail.participant.id, detail.participant.role);
    if (detail.event === 'left') {
      const tile = tiles.get(detail.participant.id);
      if (tile) { tile.node.remove(); tiles.delete(detail.participant.id); }
    }
    refresh();
  });
  call.addEventListener('speakers', ({ detail }) => {
    for (const [id, tile] of tiles) tile.node.classList.toggle('speaking', detail.ids[0] === id);
  });
  call.addEventListener('closed', ({ detail }) => {
    const key = detail.reason === 'kicked' || detail.reason === 'ended' ? `closed.${detail.reason}` : 'closed.other';
    call = null;
    endCall(t(key));
  });
  $('self').srcObject = stream;
  show($('devices'), false);
  show($('in-call'), true);
  setState('in-call');
  $('in-call-heading').focus();
  await call.start(stream);
  refresh();
}

function toggle(button, kind, onKey, offKey) {
  const muted = button.getAttribute('aria-pressed') !== 'true';
  button.setAttribute('aria-pressed', String(muted));
  button.textContent = t(muted ? onKey : offKey);
  if (call) call.setMuted(kind, muted);
}

function wire() {
  $('waiting').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action]');
    if (!b) return;
    run(async () => {
      render(await act('POST', b.dataset.action, { identity: b.dataset.identity }));
      announce(t(b.dataset.action === 'admit' ? 'done.admitted' : 'done.denied'));
    });
  });
  $('join').addEventListener('click', () => run(showDevices));
  $('camera').addEventListener('change', () => run(() => openDevices({ camera: $('camera').value, mic: $('mic').value })));
  $('mic').addEventListener('change', () => run(() => openDevices({ camera: $('camera').value, mic: $('mic').value })));
  $('device-ok').addEventListener('click', () => run(() => join(true)));
  $('audio-only').addEventListener('click', () => run(async () => {
    if (!preview) await openDevices({ video: false });
    await join(false);
  }));
  $('device-cancel').addEventListener('click', hideDevices);
  $('devices').addEventListener('keydown', (ev) => { if (ev.key === 'Escape') hideDevices(); });
  $('mic-toggle').addEventListener('click', () => toggle($('mic-toggle'), 'audio', 'incall.mic_on', 'incall.mic_off'));
  $('cam-toggle').addEventListener('click', () => toggle($('cam-toggle'), 'video', 'incall.cam_on', 'incall.cam_off'));
  $('share').addEventListener('click', () => run(async () => {
    const b = $('share');
    if (b.getAttribute('aria-pressed') === 'true') {
      call.stopScreen();
      b.setAttribute('aria-pressed', 'false');
      b.textContent = t('incall.share');
      return;
    }
    const display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    await call.shareScreen(display);
    b.setAttribute('aria-pressed', 'true');
    b.textContent = t('incall.share_stop');
    display.getVideoTracks()[0].addEventListener('ended', () => {
      b.setAttribute('aria-pressed', 'false');
      b.textContent = t('incall.share');
    });
  }));
  $('hangup').addEventListener('click', () => endCall(''));
  $('ask-mute').addEventListener('click', () => run(async () => {
    render(await act('POST', 'mute', { identity: 'citizen', kind: 'audio' }));
    announce(t('done.asked'));
  }));
  $('kick').addEventListener('click', () => run(async () => {
    render(await act('POST', 'kick', { identity: 'citizen' }));
    announce(t('done.kicked'));
  }));
  $('end').addEventListener('click', () => run(async () => {
    render(await act('POST', 'end', {}));
    announce(t('done.ended'));
  }));
}

async function main() {
  try {
    await ws.start({ standalone: () => signInStandalone(request) });
    render(await request('GET', 'call'));
  } catch (err) {
    refuse(err);
    return;
  }
  wire();
  show($('progress'), false);
  show($('panel'), true);
  document.body.dataset.state = 'ready';
  setInterval(refresh, POLL_MS);
}

window.addEventListener('pagehide', () => {
  if (call) call.leave();
});

main();
