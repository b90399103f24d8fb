// The call client against a scripted socket and peer connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Call, iceServersOf, SIMULCAST } from './rtc.js';

class FakeWS {
  constructor(url) { this.url = url; this.sent = []; this.readyState = 1; FakeWS.last = this; setTimeout(() => this.onopen && this.onopen(), 0); }
  send(s) { this.sent.push(JSON.parse(s)); }
  close() { this.readyState = 3; }
}

class FakePC {
  constructor(cfg) { this.cfg = cfg; this.transceivers = []; this.remoteDescription = null; this.signalingState = 'stable'; this.added = []; FakePC.last = this; }
  addTransceiver(track, init) { const t = { track, init, sender: {} }; this.transceivers.push(t); return t; }
  async setLocalDescription() {
    const type = this.signalingState === 'have-remote-offer' ? 'answer' : 'offer';
    this.localDescription = { type, sdp: `v=0 ${type}` };
    this.signalingState = type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d) { this.remoteDescription = d; this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable'; }
  async addIceCandidate(c) { this.added.push(c); }
  close() { this.closed = true; }
}

const track = (kind) => ({ kind, enabled: true, addEventListener() {} });
const stream = (...tracks) => ({ id: 'local', getTracks: () => tracks, getVideoTracks: () => tracks.filter((t) => t.kind === 'video') });
const join = { url: 'ws://x/video/v1/signal?call=c', token: 'grant', ice_servers: [{ urls: ['turn:h:1?transport=udp'], username: 'u', credential: 'p' }] };

test('iceServersOf maps the join info', () => {
  assert.deepEqual(iceServersOf(join), [{ urls: ['turn:h:1?transport=udp'], username: 'u', credential: 'p' }]);
  assert.deepEqual(iceServersOf({}), []);
});

test('a publisher offers in its join; candidates follow the join', async () => {
  const call = new Call(join, { WebSocketImpl: FakeWS, RTCPeerConnectionImpl: FakePC });
  const started = call.start(stream(track('audio'), track('video')));
  // A candidate gathered before the join is held back.
  FakePC.last.onicecandidate({ candidate: { toJSON: () => ({ candidate: 'candidate:1', sdpMid: '0' }) } });
  await started;
  const sent = FakeWS.last.sent;
  assert.equal(sent[0].type, 'join');
  assert.equal(sent[0].grant, 'grant');
  assert.equal(sent[0].description.type, 'offer');
  assert.equal(sent[1].type, 'candidate');
  const video = FakePC.last.transceivers.find((t) => t.track.kind === 'video');
  assert.deepEqual(video.init.sendEncodings.map((e) => e.rid), SIMULCAST.map((e) => e.rid));
  assert.equal(FakePC.last.cfg.iceServers.length, 1);
  call.leave();
});

test('a receiver joins without an offer, holds early candidates and answers the server', async () => {
  const call = new Call(join, { WebSocketImpl: FakeWS, RTCPeerConnectionImpl: FakePC });
  await call.start(null);
  assert.equal(FakeWS.last.sent[0].description, undefined);
  await call.onMessage(JSON.stringify({ type: 'candidate', candidate: { candidate: 'candidate:2', sdpMid: '0' } }));
  assert.equal(FakePC.last.added.length, 0, 'held until the offer');
  await call.onMessage(JSON.stringify({ type: 'sdp', description: { type: 'offer', sdp: 'v=0 server' } }));
  assert.equal(FakePC.last.added.length, 1, 'applied after the offer');
  const answer = FakeWS.last.sent.find((m) => m.type === 'sdp');
  assert.equal(answer.description.type, 'answer');
  const closed = new Promise((resolve) => call.addEventListener('closed', (e) => resolve(e.detail.reason)));
  await call.onMessage(JSON.stringify({ type: 'closed', reason: 'kicked' }));
  assert.equal(await closed, 'kicked');
  assert.ok(FakePC.last.closed);
});
