// makeclip.mjs writes clip.ivf, the camera picture lkpeer sends: 20 frames
// of 160×120 VP8 at 10 frames a second, a keyframe first, encoded by
// Chromium's own VP8 encoder (WebCodecs), so browsers decode what lkpeer
// sends. Run it again only to change the clip:
//
//	node tests/lkpeer/testdata/makeclip.mjs
import fs from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium } from '../../browser/node_modules/playwright-core/index.mjs';

const W = 160, H = 120, FRAMES = 20, FPS = 10;
const browser = await chromium.launch({ executablePath: process.env.RATHAUS_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
// WebCodecs needs a secure context: a page from loopback is one.
const server = http.createServer((_, res) => res.end('<!doctype html><title>clip</title>'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
await page.goto(`http://127.0.0.1:${server.address().port}/`);
const frames = await page.evaluate(async ({ W, H, FRAMES, FPS }) => {
  const out = [];
  const enc = new VideoEncoder({
    output: (chunk) => { const b = new Uint8Array(chunk.byteLength); chunk.copyTo(b); out.push(Array.from(b)); },
    error: (e) => { throw e; },
  });
  enc.configure({ codec: 'vp8', width: W, height: H, bitrate: 150000, framerate: FPS });
  const canvas = new OffscreenCanvas(W, H);
  const g = canvas.getContext('2d');
  for (let i = 0; i < FRAMES; i++) {
    g.fillStyle = `hsl(${(i * 360) / FRAMES}, 60%, 45%)`;
    g.fillRect(0, 0, W, H);
    g.fillStyle = '#fff';
    g.fillRect((i * (W - 20)) / FRAMES, H / 2 - 10, 20, 20);
    const f = new VideoFrame(canvas, { timestamp: (i * 1e6) / FPS });
    enc.encode(f, { keyFrame: i === 0 });
    f.close();
  }
  await enc.flush();
  return out;
}, { W, H, FRAMES, FPS });
await browser.close();
server.close();

// IVF: a 32-byte file header, then a 12-byte header per frame.
const header = Buffer.alloc(32);
header.write('DKIF', 0);
header.writeUInt16LE(0, 4);
header.writeUInt16LE(32, 6);
header.write('VP80', 8);
header.writeUInt16LE(W, 12);
header.writeUInt16LE(H, 14);
header.writeUInt32LE(FPS, 16);
header.writeUInt32LE(1, 20);
header.writeUInt32LE(frames.length, 24);
const parts = [header];
frames.forEach((data, i) => {
  const fh = Buffer.alloc(12);
  fh.writeUInt32LE(data.length, 0);
  fh.writeBigUInt64LE(BigInt(i), 4);
  parts.push(fh, Buffer.from(data));
});
const file = fileURLToPath(new URL('clip.ivf', import.meta.url));
fs.writeFileSync(file, Buffer.concat(parts));
console.log(`${file}: ${frames.length} frames, ${fs.statSync(file).size} bytes`);
