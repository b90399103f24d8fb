// A caseworker's Matrix client hosting Element Call's own embedded build
// (@element-hq/element-call-embedded) as a room widget, as Element Web
// does: matrix-js-sdk for the client, matrix-widget-api's ClientWidgetApi
// with a widget driver that does what Element Call asks of its client
// (state, delayed and to-device events, reading room state and timeline,
// OpenID), and the room's events fed into the widget. e2e/nativecall.mjs
// (with elementCall) bundles it (esbuild) into a page and drives
// window.hostElementCall.
import { createClient, ClientEvent, RoomEvent, RoomStateEvent } from 'matrix-js-sdk';
import {
  ClientWidgetApi, MatrixCapabilities, OpenIDRequestState, Widget, WidgetDriver,
} from 'matrix-widget-api';
import { until } from './wait.mjs';

// What the host does not offer: sticky events (Synapse has none here) and
// the host-side LiveKit token actions, so that Element Call asks rathaus
// for its token itself. It does offer the homeserver's transports
// (MSC4143's GET rtc/transports, relayed as Element Web does): Element
// Call finds its own focus only there.
const refused = new Set([
  MatrixCapabilities.MSC4407SendStickyEvent, MatrixCapabilities.MSC4407ReceiveStickyEvent,
  MatrixCapabilities.MSC4533RtcLivekitGetToken, MatrixCapabilities.MSC4533RtcLivekitDelegateDelayedLeave,
]);

class Driver extends WidgetDriver {
  constructor(client, roomId, log) {
    super();
    this.client = client;
    this.roomId = roomId;
    this.log = log;
  }

  async validateCapabilities(requested) {
    this.log.push(`capabilities asked: ${[...requested].length}`);
    return new Set([...requested].filter((c) => !refused.has(c)));
  }

  async sendEvent(eventType, content, stateKey, roomId) {
    const room = roomId || this.roomId;
    const r = stateKey !== null && stateKey !== undefined
      ? await this.client.sendStateEvent(room, eventType, content, stateKey)
      : await this.client.sendEvent(room, eventType, content);
    return { roomId: room, eventId: r.event_id };
  }

  async sendDelayedEvent(delay, eventType, content, stateKey, roomId) {
    const room = roomId || this.roomId;
    const r = stateKey !== null && stateKey !== undefined
      ? await this.client._unstable_sendDelayedStateEvent(room, { delay }, eventType, content, stateKey)
      : await this.client._unstable_sendDelayedEvent(room, { delay }, null, eventType, content);
    return { roomId: room, delayId: r.delay_id };
  }

  async cancelScheduledDelayedEvent(delayId) { await this.client._unstable_cancelScheduledDelayedEvent(delayId); }

  async restartScheduledDelayedEvent(delayId) { await this.client._unstable_restartScheduledDelayedEvent(delayId); }

  async sendScheduledDelayedEvent(delayId) { await this.client._unstable_sendScheduledDelayedEvent(delayId); }

  async sendToDevice(eventType, encrypted, contentMap) {
    if (encrypted) throw new Error('encrypted to-device messages are not offered by this host');
    const map = new Map();
    for (const [user, devices] of Object.entries(contentMap)) {
      map.set(user, new Map(Object.entries(devices)));
    }
    await this.client.sendToDevice(eventType, map);
  }

  async readRoomTimeline(roomId, eventType, msgtype, stateKey, limit) {
    const room = this.client.getRoom(roomId);
    if (!room) return [];
    const out = [];
    const events = room.getLiveTimeline().getEvents();
    for (let i = events.length - 1; i >= 0 && out.length < limit; i--) {
      const e = events[i];
      if (e.getType() !== eventType) continue;
      if (msgtype !== undefined && e.getContent().msgtype !== msgtype) continue;
      if (stateKey !== undefined && e.getStateKey() !== stateKey) continue;
      out.push(e.getEffectiveEvent());
    }
    return out;
  }

  async readRoomState(roomId, eventType, stateKey) {
    const room = this.client.getRoom(roomId);
    if (!room) return [];
    const state = room.getLiveTimeline().getState('f');
    const events = stateKey === undefined ? state.getStateEvents(eventType) : [state.getStateEvents(eventType, stateKey)].filter(Boolean);
    return events.map((e) => e.getEffectiveEvent());
  }

  async getRtcTransports() {
    const transports = await this.client._unstable_getRTCTransports();
    this.log.push(`the homeserver's transports: ${JSON.stringify(transports)}`);
    this.transports = transports;
    return { rtc_transports: transports };
  }

  askOpenID(observer) {
    this.client.getOpenIdToken().then(
      (token) => observer.update({ state: OpenIDRequestState.Allowed, token }),
      () => observer.update({ state: OpenIDRequestState.Blocked }),
    );
  }

  getKnownRooms() { return [this.roomId]; }
}

window.hostElementCall = async ({ hs, userId, accessToken, deviceId, roomId, ecBase }) => {
  const log = [];
  const client = createClient({ baseUrl: hs, userId, accessToken, deviceId });
  const prepared = new Promise((resolve) => {
    client.on(ClientEvent.Sync, (state) => { if (state === 'PREPARED') resolve(); });
  });
  await client.startClient({ initialSyncLimit: 20 });
  await prepared;
  await until(() => client.getRoom(roomId), 15000, 'the case room in the sync');

  const widgetId = `rathaus-test-ec-${Date.now()}`;
  const params = new URLSearchParams({
    widgetId, parentUrl: window.location.origin, roomId, userId, deviceId, baseUrl: hs,
    lang: 'de', theme: 'light', intent: 'join_existing', skipLobby: 'true', confineToRoom: 'true',
    header: 'none', preload: 'false', appPrompt: 'false', perParticipantE2EE: 'false',
  });
  const widget = new Widget({
    id: widgetId, creatorUserId: userId, type: 'm.call', url: `${ecBase}index.html?${params}`,
    name: 'Element Call', waitForIframeLoad: false,
  });
  const iframe = document.createElement('iframe');
  iframe.title = 'Element Call';
  iframe.allow = 'camera; microphone; display-capture; autoplay; clipboard-write';
  iframe.width = '960';
  iframe.height = '720';
  document.body.append(iframe);
  const driver = new Driver(client, roomId, log);
  const api = new ClientWidgetApi(widget, iframe, driver);
  const ready = new Promise((resolve) => api.once('ready', resolve));
  // What Element Web answers beyond the widget API: the call's own
  // actions (joined, muted, hung up, keep on screen), acknowledged.
  const acted = [];
  for (const action of ['set_always_on_screen', 'io.element.join', 'io.element.device_mute', 'im.vector.hangup', 'io.element.close']) {
    api.on(`action:${action}`, (ev) => {
      ev.preventDefault();
      acted.push(action);
      api.transport.reply(ev.detail, {});
    });
  }
  // The room's events as Element Web feeds them to its widgets.
  client.on(RoomEvent.Timeline, (ev, room) => {
    if (room && room.roomId === roomId) api.feedEvent(ev.getEffectiveEvent(), roomId).catch(() => {});
  });
  client.on(RoomStateEvent.Events, (ev) => {
    if (ev.getRoomId() === roomId) api.feedStateUpdate(ev.getEffectiveEvent()).catch(() => {});
  });
  client.on(ClientEvent.ToDeviceEvent, (ev) => {
    api.feedToDevice(ev.getEffectiveEvent(), false).catch(() => {});
  });
  iframe.src = widget.getCompleteUrl({ widgetRoomId: roomId, currentUserId: userId });
  await ready;
  log.push('widget ready');
  window.__ec = { client, api, iframe, acted, roomId, driver };
  return { log };
};

// What Element Call's video tiles show: the frames decoded in the remote
// ones (a camera's track belongs to a device group, a received one to
// none), and the widest remote picture.
window.ecFrames = () => {
  const doc = window.__ec.iframe.contentDocument;
  let remote = 0;
  let local = 0;
  let width = 0;
  for (const v of doc.querySelectorAll('video')) {
    const track = v.srcObject && v.srcObject.getVideoTracks()[0];
    if (!track || v.videoWidth === 0) continue;
    if (track.getSettings().groupId) {
      local += v.getVideoPlaybackQuality().totalVideoFrames;
    } else {
      remote += v.getVideoPlaybackQuality().totalVideoFrames;
      width = Math.max(width, v.videoWidth);
    }
  }
  return { remote, local, width, videos: doc.querySelectorAll('video').length, acted: window.__ec.acted, text: doc.body.innerText, transports: window.__ec.driver.transports || [] };
};

// Hanging up as Element Web does: it tells the widget, which leaves the
// call (its membership is cleared), then closes it.
window.ecHangUp = async () => {
  const { client, api, iframe, roomId } = window.__ec;
  await api.transport.send('im.vector.hangup', {});
  // Element Call answers at once and leaves the call after: its own
  // membership becomes empty (through this host's sendEvent).
  const mine = () => client.getRoom(roomId).getLiveTimeline().getState('f')
    .getStateEvents('org.matrix.msc3401.call.member')
    .filter((e) => e.getSender() === client.getUserId() && Object.keys(e.getContent()).length > 0);
  await until(() => mine().length === 0, 15000, 'Element Call to leave the call');
  iframe.remove();
  client.stopClient();
};
