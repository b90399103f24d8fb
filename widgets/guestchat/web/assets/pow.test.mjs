import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { solve, createSolver, estimateProgress } from './pow.js';
import { sha256Hex } from './sha256.js';

// The vectors of widgets/guestchat/pow/doc.go (TestWorkTestVector).
const T = 'rathaus-pow-test-vector';

test('difficulty 8 gives nonce 84', () => {
  assert.equal(solve(T, 8), '84');
  assert.ok(sha256Hex(`${T}:84`).startsWith('00829dc9'));
});

test('difficulty 16 gives nonce 7431', () => {
  assert.equal(solve(T, 16), '7431');
  assert.ok(sha256Hex(`${T}:7431`).startsWith('00007a16'));
});

test('the answer is the smallest nonce', () => {
  // Independent brute force with node:crypto.
  const token = 'another-token.with_signature-part';
  const d = 10;
  let want = null;
  for (let n = 0; want === null; n++) {
    const h = createHash('sha256').update(`${token}:${n}`).digest();
    let zeros = 0;
    for (const byte of h) {
      if (byte === 0) { zeros += 8; continue; }
      zeros += Math.clz32(byte) - 24;
      break;
    }
    if (zeros >= d) want = String(n);
  }
  assert.equal(solve(token, d), want);
});

test('step() resumes where it stopped', () => {
  const s = createSolver(T, 16);
  let answer = null;
  while (answer === null) answer = s.step(1000);
  assert.equal(answer, '7431');
  assert.equal(s.tried, 7432);
});

test('a long token (several blocks) still works', () => {
  const token = 'A'.repeat(300) + '.sig';
  const n = solve(token, 8);
  assert.ok(sha256Hex(`${token}:${n}`).startsWith('00'));
});

test('bad input is refused', () => {
  assert.throws(() => createSolver('', 18), TypeError);
  assert.throws(() => createSolver('tök', 18), TypeError);
  assert.throws(() => createSolver(T, 7), RangeError);
  assert.throws(() => createSolver(T, 31), RangeError);
  assert.throws(() => createSolver(T, 18.5), RangeError);
});

test('progress estimate is monotonic and below 1', () => {
  assert.equal(estimateProgress(0, 18), 0);
  const a = estimateProgress(100000, 18);
  const b = estimateProgress(400000, 18);
  assert.ok(a > 0 && a < b && b < 1);
});

test('difficulty 18 is fast enough', () => {
  const start = performance.now();
  solve('speed-check-token', 18);
  const ms = performance.now() - start;
  // Generous bound for slow CI; in practice well under a second.
  assert.ok(ms < 20000, `took ${ms} ms`);
});
