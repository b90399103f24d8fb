// A caseworker's Matrix client placing a native call, made of what Element
// Call is made of: matrix-js-sdk's MatrixRTCSession for the call
// membership and livekit-client for the media. e2e/nativecall.mjs bundles
// it (esbuild) into a page and drives window.nativeCall.
import { createClient, ClientEvent } from 'matrix-js-sdk';
import { Room as LiveKitRoom, RoomEvent, Track } from 'livekit-client';
import { until } from './wait.mjs';

window.nativeCall = async ({ hs, userId, accessToken, deviceId, roomId }) => {
  const log = [];
  const client = createClient({ baseUrl: hs, userId, accessToken, deviceId });
  const prepared = new Promise((resolve) => {
    client.on(ClientEvent.Sync, (state) => { if (state === 'PREPARED') resolve(); });
  });
  await client.startClient({ initialSyncLimit: 10 });
  await prepared;
  const room = await until(() => client.getRoom(roomId), 15000, 'the case room in the sync');
  const session = client.matrixRTC.getRoomSession(room);
  // Discovery as Element Call does when joining a running call: the
  // transport of the oldest membership (here the citizen's ghost's).
  const oldest = await until(() => session.getOldestMembership(), 15000, 'a call membership in the room');
  const transport = oldest.getTransport(oldest);
  log.push(`oldest membership ${oldest.sender}/${oldest.deviceId}, transport ${JSON.stringify(transport)}`);
  session.joinRoomSession([transport], undefined, {});
  const openid = await client.getOpenIdToken();
  const started = Date.now();
  const resp = await fetch(`${transport.livekit_service_url}/get_token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      room_id: roomId, slot_id: 'm.call#ROOM', openid_token: openid,
      member: { id: `${deviceId}-member`, claimed_user_id: userId, claimed_device_id: deviceId },
    }),
  });
  const token = await resp.json();
  if (!resp.ok) throw new Error(`get_token: ${resp.status} ${JSON.stringify(token)}`);
  const lk = new LiveKitRoom({ adaptiveStream: false });
  window.__native = { client, session, lk };
  await lk.connect(token.url, token.jwt);
  const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
  for (const track of media.getTracks()) {
    await lk.localParticipant.publishTrack(track, {
      source: track.kind === 'video' ? Track.Source.Camera : Track.Source.Microphone,
    });
  }
  // The citizen's tile: a LiveKit participant whose identity is a call
  // member's backend identity.
  const video = document.createElement('video');
  video.autoplay = true;
  video.muted = true;
  document.body.append(video);
  const remote = await until(() => [...lk.remoteParticipants.values()].find((p) => p.videoTrackPublications.size > 0), 15000, 'a remote participant with video');
  const member = session.memberships.find((m) => m.rtcBackendIdentity === remote.identity);
  await until(() => [...remote.videoTrackPublications.values()].some((p) => p.track), 15000, 'the remote video subscribed');
  const pub = [...remote.videoTrackPublications.values()].find((p) => p.track);
  pub.track.attach(video);
  await until(() => video.videoWidth > 0, 15000, 'the remote video decoded');
  return {
    log,
    tokenAfter: Date.now() - started,
    remoteIdentity: remote.identity,
    member: member ? { userId: member.sender, deviceId: member.deviceId } : null,
    memberships: session.memberships.map((m) => ({ userId: m.sender, deviceId: m.deviceId, identity: m.rtcBackendIdentity })),
    width: video.videoWidth,
  };
};

window.nativeFrames = async () => {
  let frames = 0;
  const { lk } = window.__native;
  for (const p of lk.remoteParticipants.values()) {
    for (const pub of p.videoTrackPublications.values()) {
      if (!pub.track) continue;
      const report = await pub.track.getRTCStatsReport();
      if (report) report.forEach((s) => { if (s.type === 'inbound-rtp') frames += s.framesDecoded || 0; });
    }
  }
  return frames;
};

window.nativeHangUp = async () => {
  const { client, session, lk } = window.__native;
  await lk.disconnect();
  await session.leaveRoomSession(5000);
  client.stopClient();
};
