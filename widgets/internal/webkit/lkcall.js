// The call client on LiveKit (video.backend livekit; docs/video.md,
// "LiveKit"): the same events and methods as rtc.js's Call, so the pages
// do not care which media server runs the call, on top of livekit-client
// (vendor/, loaded only here). Participants are told apart by a
// MediaStream per remote participant: its id is the participant id of the
// joined, participant and speakers events, as rtc.js's stream ids are.
import './vendor/livekit-client.umd.js';

const LK = globalThis.LivekitClient;

// livekit-client logs to the console, errors included for what is normal
// here (its data channels "closed unexpectedly" when the server removes
// a participant); the pages report what matters through the call's
// events instead.
LK.setLogLevel('silent');

// The topic of rathaus's requests to mute (RoomService.SendData).
const MUTE_TOPIC = 'rathaus.mute_request';

// LiveKitCall is one participation. Events (CustomEvent, detail as noted):
// joined {self, participants}, participant {event, participant},
// track {stream, track, screen}, trackended {stream, track, screen},
// speakers {ids}, mute_request {kind}, closed {reason}.
export class LiveKitCall extends EventTarget {
  constructor(join) {
    super();
    this.join = join;
    this.room = null;
    this.closed = false;
    this.local = null;
    this.screen = null;
    this.streams = new Map(); // identity → { stream, role }
    const call = this;
    // pc is what tests and the quality hint read of a call: its state,
    // its statistics (publisher and subscriber connection merged) and
    // its senders.
    this.pc = {
      get connectionState() {
        if (call.closed) return 'closed';
        return call.room && call.room.state === 'connected' ? 'connected' : 'connecting';
      },
      async getStats() {
        const out = new Map();
        const m = call.room && call.room.engine && call.room.engine.pcManager;
        for (const t of m ? [m.publisher, m.subscriber] : []) {
          if (!t) continue;
          const r = await t.getStats();
          if (r) r.forEach((v, k) => out.set(k, v));
        }
        return out;
      },
      getSenders() {
        const m = call.room && call.room.engine && call.room.engine.pcManager;
        return m && m.publisher ? m.publisher.getSenders() : [];
      },
    };
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  entry(p) {
    let e = this.streams.get(p.identity);
    if (!e) {
      e = { stream: new MediaStream(), role: p.name || '' };
      this.streams.set(p.identity, e);
    }
    return e;
  }

  info(p) {
    const e = this.entry(p);
    return { id: e.stream.id, role: e.role };
  }

  // start joins with stream (null: receive only); video is sent as
  // simulcast unless simulcast is false.
  async start(stream, { simulcast = true } = {}) {
    this.local = stream;
    const room = new LK.Room({ adaptiveStream: false, dynacast: true });
    this.room = room;
    const E = LK.RoomEvent;
    room.on(E.ParticipantConnected, (p) => this.emit('participant', { event: 'joined', participant: this.info(p) }));
    room.on(E.ParticipantDisconnected, (p) => {
      const info = this.info(p);
      this.streams.delete(p.identity);
      this.emit('participant', { event: 'left', participant: info });
    });
    room.on(E.TrackSubscribed, (track, pub, p) => {
      const e = this.entry(p);
      const screen = pub.source === LK.Track.Source.ScreenShare;
      if (!screen) e.stream.addTrack(track.mediaStreamTrack);
      this.emit('track', { stream: e.stream, track: track.mediaStreamTrack, screen });
    });
    room.on(E.TrackUnsubscribed, (track, pub, p) => {
      const e = this.streams.get(p.identity);
      if (!e) return;
      const screen = pub.source === LK.Track.Source.ScreenShare;
      const mst = track.mediaStreamTrack;
      if (!screen) e.stream.removeTrack(mst);
      mst.stop();
      this.emit('trackended', { stream: e.stream, track: mst, screen });
    });
    room.on(E.ActiveSpeakersChanged, (speakers) => {
      const ids = speakers.filter((p) => p !== room.localParticipant).map((p) => this.entry(p).stream.id);
      this.emit('speakers', { ids });
    });
    room.on(E.DataReceived, (payload, participant, _kind, topic) => {
      if (topic !== MUTE_TOPIC || participant) return; // only the server asks
      let m = {};
      try { m = JSON.parse(new TextDecoder().decode(payload)); } catch { return; }
      this.emit('mute_request', { kind: m.kind === 'video' ? 'video' : 'audio' });
    });
    room.on(E.Disconnected, (reason) => {
      const R = LK.DisconnectReason;
      if (reason === R.CLIENT_INITIATED) return;
      const why = reason === R.PARTICIPANT_REMOVED ? 'kicked' : reason === R.ROOM_DELETED ? 'ended' : 'socket_closed';
      this.fail(why);
    });
    await room.connect(this.join.url, this.join.token, { autoSubscribe: true });
    if (this.closed) return;
    if (stream) {
      for (const track of stream.getTracks()) {
        const source = track.kind === 'video' ? LK.Track.Source.Camera : LK.Track.Source.Microphone;
        await room.localParticipant.publishTrack(track, { source, simulcast, stream: 'camera' });
      }
    }
    const participants = [...room.remoteParticipants.values()].map((p) => this.info(p));
    this.emit('joined', { self: room.localParticipant.identity, participants });
  }

  // setMuted mutes or unmutes our own audio or video; the others see it.
  setMuted(kind, muted) {
    if (!this.room) return;
    for (const pub of this.room.localParticipant.trackPublications.values()) {
      if (pub.kind !== kind || pub.source === LK.Track.Source.ScreenShare || !pub.track) continue;
      if (muted) pub.track.mute(); else pub.track.unmute();
    }
  }

  // shareScreen publishes a screen capture; stopScreen ends it.
  async shareScreen(display) {
    const track = display.getVideoTracks()[0];
    if (!track || !this.room) return;
    this.screen = { stream: display, track };
    track.addEventListener('ended', () => this.stopScreen());
    await this.room.localParticipant.publishTrack(track, { source: LK.Track.Source.ScreenShare, simulcast: false });
  }

  stopScreen() {
    if (!this.screen) return;
    const { stream, track } = this.screen;
    this.screen = null;
    if (this.room && !this.closed) this.room.localParticipant.unpublishTrack(track, true).catch(() => {});
    for (const t of stream.getTracks()) t.stop();
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
    this.closed = true;
    this.cleanup();
  }

  cleanup() {
    if (this.screen) this.stopScreen();
    if (this.room) this.room.disconnect(false).catch(() => {});
  }
}
