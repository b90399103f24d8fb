// The call client of rathaus's embedded media server (docs/video.md,
// "Signalling"): one WebSocket, one RTCPeerConnection. A page that sends
// media offers in its join, so the first negotiation never collides with
// the server's offer of the others' tracks; after that the page is the
// polite peer of perfect negotiation (the server is impolite). Remote
// tracks arrive grouped by MediaStream id, which is the participant id of
// the joined/participant messages.

// The simulcast layers of a camera, lowest first (the server picks one
// per receiver by its bandwidth).
export const SIMULCAST = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
  { rid: 'f', maxBitrate: 1200000 },
];

const PING_MS = 20000;

// iceServersOf turns the join info's ice_servers into RTCIceServer.
export function iceServersOf(join) {
  return ((join && join.ice_servers) || []).map((s) => ({
    urls: s.urls, username: s.username, credential: s.credential,
  }));
}

// Call is one participation. Events (CustomEvent, detail as noted):
// joined {self, participants}, participant {event, participant},
// track {stream, track, screen}, trackended {stream, track, screen},
// speakers {ids},
// mute_request {kind}, closed {reason}, error {reason}.
export class Call extends EventTarget {
  constructor(join, { WebSocketImpl = globalThis.WebSocket, RTCPeerConnectionImpl = globalThis.RTCPeerConnection } = {}) {
    super();
    this.join = join;
    this.WS = WebSocketImpl;
    this.PC = RTCPeerConnectionImpl;
    this.pc = null;
    this.ws = null;
    this.makingOffer = false;
    this.held = [];
    this.early = [];
    this.joinSent = false;
    this.closed = false;
    this.ping = 0;
    this.local = null;
    this.screen = null;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  send(msg) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(msg));
  }

  // start joins with stream (null: receive only); video is sent as
  // simulcast unless simulcast is false.
  async start(stream, { simulcast = true } = {}) {
    const pc = new this.PC({ iceServers: iceServersOf(this.join), bundlePolicy: 'max-bundle' });
    this.pc = pc;
    this.local = stream;
    if (stream) {
      for (const track of stream.getTracks()) {
        const init = { direction: 'sendrecv', streams: [stream] };
        if (track.kind === 'video' && simulcast) init.sendEncodings = SIMULCAST.map((e) => ({ ...e }));
        pc.addTransceiver(track, init);
      }
    }
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate) return;
      const msg = { type: 'candidate', candidate: candidate.toJSON() };
      if (this.joinSent) this.send(msg); else this.early.push(msg);
    };
    pc.ontrack = ({ track, streams }) => {
      const s = streams && streams[0];
      if (!s) return;
      // The server names screen shares' tracks screen-N.
      const screen = track.id.startsWith('screen');
      this.emit('track', { stream: s, track, screen });
      track.addEventListener('ended', () => this.emit('trackended', { stream: s, track, screen }));
      s.addEventListener('removetrack', (e) => this.emit('trackended', { stream: s, track: e.track, screen: e.track.id.startsWith('screen') }));
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') this.fail('connection_failed');
    };
    this.ws = new this.WS(this.join.url);
    await new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = () => reject(new Error('signalling'));
    });
    this.ws.onmessage = (e) => this.onMessage(e.data);
    this.ws.onclose = () => this.fail('socket_closed');
    const join = { type: 'join', grant: this.join.token };
    if (stream) {
      await pc.setLocalDescription();
      join.description = { type: pc.localDescription.type, sdp: pc.localDescription.sdp };
    }
    this.send(join);
    this.joinSent = true;
    for (const m of this.early.splice(0)) this.send(m);
    pc.onnegotiationneeded = () => this.negotiate();
    this.ping = setInterval(() => this.send({ type: 'ping' }), PING_MS);
  }

  async negotiate() {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      const d = this.pc.localDescription;
      this.send({ type: 'sdp', description: { type: d.type, sdp: d.sdp } });
    } catch (err) {
      this.emit('error', { reason: 'negotiation', message: String(err && err.message) });
    } finally {
      this.makingOffer = false;
    }
  }

  async onMessage(raw) {
    let m;
    try { m = JSON.parse(raw); } catch { return; }
    switch (m.type) {
      case 'sdp': await this.onDescription(m.description); break;
      case 'candidate': await this.onCandidate(m.candidate); break;
      case 'joined': this.emit('joined', { self: m.self, participants: m.participants || [] }); break;
      case 'participant': this.emit('participant', { event: m.event, participant: m.participant }); break;
      case 'speakers': this.emit('speakers', { ids: m.speakers || [] }); break;
      case 'mute_request': this.emit('mute_request', { kind: m.kind }); break;
      case 'closed': this.fail(m.reason || 'closed'); break;
      case 'error': this.emit('error', { reason: m.reason, message: m.message }); break;
      default: break;
    }
  }

  // onDescription: the polite peer. A colliding server offer wins: the
  // browser rolls our offer back by itself (implicit rollback) and fires
  // negotiationneeded again once stable.
  async onDescription(d) {
    const pc = this.pc;
    if (!d || !pc) return;
    try {
      if (d.type === 'offer') {
        await pc.setRemoteDescription(d);
        await this.flushHeld();
        await pc.setLocalDescription();
        const a = pc.localDescription;
        this.send({ type: 'sdp', description: { type: a.type, sdp: a.sdp } });
      } else if (d.type === 'answer' && pc.signalingState === 'have-local-offer') {
        await pc.setRemoteDescription(d);
        await this.flushHeld();
      }
    } catch (err) {
      this.emit('error', { reason: 'negotiation', message: String(err && err.message) });
    }
  }

  async onCandidate(c) {
    if (!c || !c.candidate) return;
    if (!this.pc.remoteDescription) {
      this.held.push(c);
      return;
    }
    try { await this.pc.addIceCandidate(c); } catch { /* a stale candidate */ }
  }

  async flushHeld() {
    for (const c of this.held.splice(0)) {
      try { await this.pc.addIceCandidate(c); } catch { /* a stale candidate */ }
    }
  }

  // setMuted mutes or unmutes our own audio or video and tells the others.
  setMuted(kind, muted) {
    if (this.local) for (const t of this.local.getTracks()) if (t.kind === kind) t.enabled = !muted;
    this.send({ type: 'mute', kind, muted });
  }

  // shareScreen sends a screen capture as a second video (the server
  // names it screen-N); stopScreen ends it.
  async shareScreen(display) {
    const track = display.getVideoTracks()[0];
    if (!track) return;
    this.screen = { stream: display, transceiver: null };
    this.send({ type: 'screen', stream: display.id });
    this.screen.transceiver = this.pc.addTransceiver(track, { direction: 'sendonly', streams: [display] });
    track.addEventListener('ended', () => this.stopScreen());
  }

  stopScreen() {
    if (!this.screen) return;
    const { stream, transceiver } = this.screen;
    this.screen = null;
    for (const t of stream.getTracks()) t.stop();
    if (transceiver && this.pc.connectionState !== 'closed') {
      try { this.pc.removeTrack(transceiver.sender); } catch { /* closed */ }
    }
  }

  fail(reason) {
    if (this.closed) return;
    this.closed = true;
    this.cleanup();
    this.emit('closed', { reason });
  }

  // leave hangs up.
  leave() {
    if (this.closed) return;
    this.send({ type: 'leave' });
    this.closed = true;
    this.cleanup();
  }

  cleanup() {
    clearInterval(this.ping);
    if (this.screen) this.stopScreen();
    if (this.ws) { this.ws.onclose = null; try { this.ws.close(); } catch { /* closed */ } }
    if (this.pc) this.pc.close();
  }
}

// callFor is the call client for a join: rtc.js's Call for the embedded
// media server, lkcall.js's LiveKitCall (with livekit-client, loaded only
// then) when the call runs on LiveKit.
export async function callFor(join) {
  if (join && join.backend === 'livekit') {
    const { LiveKitCall } = await import('./lkcall.js');
    return new LiveKitCall(join);
  }
  return new Call(join);
}

// frameStats reads what a page decodes (tests and the call view's quality
// hint): per inbound video, framesDecoded and framesPerSecond.
export async function frameStats(pc) {
  const out = [];
  if (!pc) return out;
  const report = await pc.getStats();
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.push({ framesDecoded: s.framesDecoded || 0, fps: s.framesPerSecond || 0, packetsLost: s.packetsLost || 0 });
    }
  });
  return out;
}
