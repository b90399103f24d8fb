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
// wanted; 960×540 is enough for a face and a document held up, and still
// lets browsers send three simulcast layers.
export function constraintsOf({ camera = '', mic = '', video = true } = {}) {
  return {
    audio: mic ? { deviceId: { exact: mic } } : true,
    video: video ? { ...(camera ? { deviceId: { exact: camera } } : {}), width: { ideal: 960 }, height: { ideal: 540 } } : false,
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
export async function listDevices(media = globalThis.navigator && globalThis.navigator.mediaDevices) {
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

// fillSelects lists the cameras and microphones in two <select>s, the
// current choice selected (labels appear once permission is granted).
export async function fillSelects(cameraSelect, micSelect, choice = {}, media = undefined) {
  const { cameras, mics } = await listDevices(media);
  const fill = (select, list, current) => select.replaceChildren(...list.map((d, i) => {
    const option = document.createElement('option');
    option.value = d.deviceId;
    option.selected = d.deviceId === current;
    option.textContent = d.label || `${i + 1}`;
    return option;
  }));
  fill(cameraSelect, cameras, choice.camera);
  fill(micSelect, mics, choice.mic);
}
