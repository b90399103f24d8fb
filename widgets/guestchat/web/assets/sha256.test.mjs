import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sha256Hex, prefixHasher, leadingZeroBits, wordsToHex } from './sha256.js';

const vectors = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ['abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1'],
  ['a'.repeat(1000), '41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3'],
];

test('sha256Hex matches the FIPS 180-4 vectors', () => {
  for (const [input, want] of vectors) {
    assert.equal(sha256Hex(input), want, `length ${input.length}`);
  }
});

test('sha256Hex matches node:crypto at every length around block edges', () => {
  for (let len = 0; len <= 200; len++) {
    const s = 'x'.repeat(len);
    assert.equal(sha256Hex(s), createHash('sha256').update(s).digest('hex'), `length ${len}`);
  }
  const utf8 = 'Grüße aus dem Rathaus';
  assert.equal(sha256Hex(utf8), createHash('sha256').update(utf8, 'utf8').digest('hex'));
});

test('prefixHasher equals hashing the whole string', () => {
  for (const plen of [0, 1, 23, 54, 55, 56, 63, 64, 65, 119, 120, 128, 300]) {
    const prefix = 'p'.repeat(plen - Math.min(plen, 1)) + (plen ? ':' : '');
    const hash = prefixHasher(prefix);
    for (const suffix of ['', '0', '7431', '12345678901234567890', 'y'.repeat(150)]) {
      const want = createHash('sha256').update(prefix + suffix).digest('hex');
      assert.equal(wordsToHex(hash(suffix)), want, `prefix ${plen}, suffix ${suffix.length}`);
    }
  }
});

test('leadingZeroBits counts from the most significant bit', () => {
  assert.equal(leadingZeroBits([0x80000000, 0, 0, 0, 0, 0, 0, 0]), 0);
  assert.equal(leadingZeroBits([0x00007a16, 1, 0, 0, 0, 0, 0, 0]), 17);
  assert.equal(leadingZeroBits([0, 0x0fffffff, 0, 0, 0, 0, 0, 0]), 36);
  assert.equal(leadingZeroBits([0, 0, 0, 0, 0, 0, 0, 0]), 256);
});
