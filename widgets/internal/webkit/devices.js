// The device check of the video pages: camera and microphone preview,
// device choice, and plain reasons when it does not work. The reason codes
// are the keys of the pages' texts (device.denied, device.none, …).

// reasonOf turns a getUserMedia error into a reason code.
export function reasonOf(err) {
  switch (err && err.name) {
    case 'NotAllowedError': case 'SecurityError': return 'denied';
    case 'NotFoundError': case 'OverconstrainedError': return 'none';
    case 'NotReadableError': case 'AbortError': return 'busy';
    default: return 'failed';
  }
}

// constraintsOf asks for the chosen devices (or any), video only if
// wanted; 1280×720 lets the browser send three simulcast layers.
export function constraintsOf({ camera = '', mic = '', video = true } = {}) {
  return {
    audio: mic ? { deviceId: { exact: mic } } : true,
    video: video ? { ...(camera ? { deviceId: { exact: camera } } : {}), width: { ideal: 1280 }, height: { ideal: 720 } } : false,
  };
}

// open gets a stream; without a camera it falls back to sound only and
// says so (reason 'none').
export async function open(choice, media = globalThis.navigator && navigator.mediaDevices) {
  if (!media || !media.getUserMedia) return { stream: null, reason: 'unsupported' };
  try {
    return { stream: await media.getUserMedia(constraintsOf(choice)), reason: '' };
  } catch (err) {
    const reason = reasonOf(err);
    if (reason === 'none' && choice.video !== false) {
      try {
        return { stream: await media.getUserMedia(constraintsOf({ ...choice, video: false })), reason: 'none' };
      } catch (err2) {
        return { stream: null, reason: reasonOf(err2) };
      }
    }
    return { stream: null, reason };
  }
}

// listDevices returns the cameras and microphones (labels appear once
// permission is granted).
export async function listDevices(media = globalThis.navigator && navigator.mediaDevices) {
  if (!media || !media.enumerateDevices) return { cameras: [], mics: [] };
  const all = await media.enumerateDevices();
  return {
    cameras: all.filter((d) => d.kind === 'videoinput'),
    mics: all.filter((d) => d.kind === 'audioinput'),
  };
}

// stop ends every track of a stream.
export function stop(stream) {
  if (stream) for (const t of stream.getTracks()) t.stop();
}
