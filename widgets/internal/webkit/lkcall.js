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

// Committee calls: a listener's join info carries listener_videos (N > 0).
// The page then subscribes to every microphone and screen share but to the
// camera video of N publishers only: the last active speakers as LiveKit
// reports them, filled up in the order the publishers joined (to the
// second, as LiveKit tells it; then by identity) — the rule
// the embedded server applies itself (video/sfu/lastn.go). LiveKit sends
// a participant only what it subscribes to, and with dynacast publishers
// stop the layers nobody takes.

// shownVideos picks the identities whose camera a listener takes: the most
// recent speakers first (recent, most recent first), then by join order
// (parts, sorted), n of them, among those with a camera (hasCamera).
export function shownVideos(n, recent, parts, hasCamera) {
  const shown = new Set();
  for (const id of [...recent, ...parts]) {
    if (shown.size >= n) break;
    if (hasCamera(id)) shown.add(id);
  }
  return shown;
}

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
    // videos is N of a committee call's listener (0: take everything);
    // recent are the speakers, most recent first.
    this.videos = (join && join.listener_videos) || 0;
    this.recent = [];
    this.taken = new Set(); // track sids a committee listener subscribed to
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
      this.recent = this.recent.filter((id) => id !== p.identity);
      this.emit('participant', { event: 'left', participant: info });
      this.select();
    });
    room.on(E.TrackPublished, () => this.select());
    room.on(E.TrackUnpublished, () => this.select());
    room.on(E.Reconnected, () => this.select());
    room.on(E.TrackSubscribed, (track, pub, p) => {
      this.select(); // a committee listener's settings, now LiveKit has the subscription
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
      // Never mst.stop(): livekit-client reuses the transceiver (and its
      // track) for the next subscription, which fails on an ended track.
      this.emit('trackended', { stream: e.stream, track: mst, screen });
    });
    room.on(E.ActiveSpeakersChanged, (speakers) => {
      if (this.videos > 0) {
        const now = speakers.filter((p) => p !== room.localParticipant).map((p) => p.identity);
        this.recent = [...now, ...this.recent.filter((id) => !now.includes(id))];
        this.select();
      }
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
    await room.connect(this.join.url, this.join.token, { autoSubscribe: this.videos <= 0 });
    if (this.closed) return;
    this.select();
    if (stream) {
      for (const track of stream.getTracks()) {
        const source = track.kind === 'video' ? LK.Track.Source.Camera : LK.Track.Source.Microphone;
        await room.localParticipant.publishTrack(track, { source, simulcast, stream: 'camera' });
      }
    }
    const participants = [...room.remoteParticipants.values()].map((p) => this.info(p));
    this.emit('joined', { self: room.localParticipant.identity, participants });
  }

  // select sets which camera videos a committee listener takes (see
  // shownVideos). It subscribes to every track but keeps the cameras not
  // shown disabled: LiveKit forwards nothing of them, and showing one is
  // a settings update that LiveKit answers at the next keyframe, with no
  // renegotiation. Pausing comes first, so it never takes more than N.
  select() {
    if (this.videos <= 0 || !this.room || this.closed) return;
    const Camera = LK.Track.Source.Camera;
    // LiveKit tells the join time to the second: ties go by identity,
    // so every listener fills up alike.
    const joined = (p) => (p.joinedAt ? p.joinedAt.getTime() : 0);
    const parts = [...this.room.remoteParticipants.values()]
      .sort((a, b) => joined(a) - joined(b) || (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0));
    const byId = new Map(parts.map((p) => [p.identity, p]));
    const hasCamera = (id) => {
      const p = byId.get(id);
      return !!p && [...p.trackPublications.values()].some((pub) => pub.source === Camera);
    };
    const shown = shownVideos(this.videos, this.recent, parts.map((p) => p.identity), hasCamera);
    const pubs = parts.flatMap((p) => [...p.trackPublications.values()].map((pub) => ({ pub, show: pub.source !== Camera || shown.has(p.identity) })));
    for (const { pub, show } of pubs) if (!show && pub.isEnabled) pub.setEnabled(false);
    for (const { pub, show } of pubs) if (show && !pub.isEnabled) pub.setEnabled(true);
    const live = new Set();
    for (const { pub } of pubs) {
      live.add(pub.trackSid);
      if (!this.taken.has(pub.trackSid)) {
        this.taken.add(pub.trackSid);
        pub.setSubscribed(true);
      }
    }
    for (const sid of this.taken) if (!live.has(sid)) this.taken.delete(sid);
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
