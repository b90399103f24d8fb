// SHA-256 (FIPS 180-4) in plain JavaScript, synchronous.
//
// The proof of work needs a few hundred thousand digests of short ASCII
// strings; crypto.subtle is asynchronous per call and far too slow for that,
// and is missing outside secure contexts. prefixHasher() additionally keeps
// the state after the constant prefix (the challenge token), so each nonce
// costs only the last one or two blocks.

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INIT = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

// Scratch message schedule, shared: every function here is synchronous.
const W = new Uint32Array(64);

// compress folds the 64-byte block at bytes[off..off+63] into state.
function compress(state, bytes, off) {
  for (let i = 0; i < 16; i++) {
    const j = off + i * 4;
    W[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15];
    const w2 = W[i - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3];
  let e = state[4], f = state[5], g = state[6], h = state[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0;
    d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  state[0] = (state[0] + a) | 0; state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0; state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0; state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0; state[7] = (state[7] + h) | 0;
}

// asciiBytes returns the bytes of an ASCII string; anything else is UTF-8
// encoded (correct, just slower).
function toBytes(str) {
  for (let i = 0; i < str.length; i++) {
    if (str.charCodeAt(i) > 0x7f) return new TextEncoder().encode(str);
  }
  const out = new Uint8Array(str.length);
  for (let i = 0; i < str.length; i++) out[i] = str.charCodeAt(i);
  return out;
}

// writeLength puts the message length in bits, big-endian 64-bit, at
// buf[end-8..end-1].
function writeLength(buf, end, byteLength) {
  const hi = Math.floor(byteLength / 0x20000000); // (bytes * 8) >>> 32
  const lo = (byteLength * 8) >>> 0;
  buf[end - 8] = hi >>> 24; buf[end - 7] = hi >>> 16; buf[end - 6] = hi >>> 8; buf[end - 5] = hi;
  buf[end - 4] = lo >>> 24; buf[end - 3] = lo >>> 16; buf[end - 2] = lo >>> 8; buf[end - 1] = lo;
}

function digestWords(bytes) {
  const state = new Int32Array(INIT);
  const full = bytes.length - (bytes.length % 64);
  for (let off = 0; off < full; off += 64) compress(state, bytes, off);
  const rest = bytes.length - full;
  const tail = new Uint8Array(rest < 56 ? 64 : 128);
  tail.set(bytes.subarray(full));
  tail[rest] = 0x80;
  writeLength(tail, tail.length, bytes.length);
  for (let off = 0; off < tail.length; off += 64) compress(state, tail, off);
  return state;
}

function toHex(state) {
  let s = '';
  for (let i = 0; i < 8; i++) s += (state[i] >>> 0).toString(16).padStart(8, '0');
  return s;
}

// sha256Hex returns the lower-case hex SHA-256 of the string's UTF-8 bytes.
export function sha256Hex(str) {
  return toHex(digestWords(toBytes(str)));
}

// leadingZeroBits counts the zero bits at the start of a digest given as
// eight 32-bit words (big-endian, as SHA-256 defines them).
export function leadingZeroBits(state) {
  let n = 0;
  for (let i = 0; i < 8; i++) {
    const w = state[i] >>> 0;
    if (w !== 0) return n + Math.clz32(w);
    n += 32;
  }
  return n;
}

// prefixHasher returns hash(suffix), which computes SHA-256(prefix + suffix)
// for ASCII suffixes as eight 32-bit words. The returned array is reused by
// the next call; copy it to keep it.
export function prefixHasher(prefix) {
  const pre = toBytes(prefix);
  const full = pre.length - (pre.length % 64);
  const mid = new Int32Array(INIT);
  for (let off = 0; off < full; off += 64) compress(mid, pre, off);
  const restLen = pre.length - full;
  // Room for the prefix's remainder (< 64), a suffix and the padding.
  let buf = new Uint8Array(192);
  buf.set(pre.subarray(full));
  const state = new Int32Array(8);
  return function hash(suffix) {
    const n = restLen + suffix.length;
    if (n + 9 > buf.length) {
      const bigger = new Uint8Array((Math.ceil((n + 9) / 64) + 1) * 64);
      bigger.set(buf.subarray(0, restLen));
      buf = bigger;
    }
    for (let i = 0; i < suffix.length; i++) {
      const c = suffix.charCodeAt(i);
      if (c > 0x7f) throw new RangeError('prefixHasher: suffix must be ASCII');
      buf[restLen + i] = c;
    }
    const end = Math.ceil((n + 9) / 64) * 64;
    buf[n] = 0x80;
    buf.fill(0, n + 1, end - 8);
    writeLength(buf, end, full + n);
    state.set(mid);
    for (let off = 0; off < end; off += 64) compress(state, buf, off);
    return state;
  };
}

// hexOf formats words from prefixHasher or leadingZeroBits' input as hex.
export { toHex as wordsToHex };
