// Proof of work for opening a case (see widgets/guestchat/pow/doc.go):
// find the smallest decimal nonce N such that SHA-256(token + ":" + N)
// starts with `difficulty` zero bits.
//
// Loaded as a module Web Worker by the page; the same file exports the
// solver so the page can fall back to solving in slices on the main thread
// and so node --test can check it against the Go package's test vectors.
//
// Worker protocol:
//   in:  {token: string, difficulty: number}
//   out: {type: 'progress', tried: number}   about every 150 ms
//        {type: 'done', nonce: string, tried: number}
//        {type: 'error', message: string}

import { prefixHasher, leadingZeroBits } from './sha256.js';

export const MIN_DIFFICULTY = 8;
export const MAX_DIFFICULTY = 30;

// createSolver returns an object whose step(n) tries up to n further nonces
// and returns the answer as a string, or null if none of them was it.
export function createSolver(token, difficulty) {
  if (typeof token !== 'string' || token === '' || !/^[\x20-\x7e]+$/.test(token)) {
    throw new TypeError('pow: token must be a non-empty ASCII string');
  }
  if (!Number.isInteger(difficulty) || difficulty < MIN_DIFFICULTY || difficulty > MAX_DIFFICULTY) {
    throw new RangeError('pow: difficulty out of range');
  }
  const hash = prefixHasher(token + ':');
  let nonce = 0;
  return {
    get tried() {
      return nonce;
    },
    step(count) {
      const end = Math.min(nonce + count, Number.MAX_SAFE_INTEGER);
      while (nonce < end) {
        const n = String(nonce);
        nonce++;
        if (leadingZeroBits(hash(n)) >= difficulty) return n;
      }
      return null;
    },
  };
}

// solve runs the solver to the end, synchronously.
export function solve(token, difficulty) {
  const solver = createSolver(token, difficulty);
  for (;;) {
    const n = solver.step(1 << 16);
    if (n !== null) return n;
  }
}

// estimateProgress is the probability (0…1) that a solver would be done
// after `tried` attempts: an honest progress figure for a search whose
// length is random, that only approaches 1.
export function estimateProgress(tried, difficulty) {
  return 1 - Math.exp(-tried / 2 ** difficulty);
}

function runInWorker(scope) {
  scope.onmessage = (ev) => {
    const { token, difficulty } = ev.data || {};
    let solver;
    try {
      solver = createSolver(token, difficulty);
    } catch (err) {
      scope.postMessage({ type: 'error', message: String(err && err.message) });
      return;
    }
    let last = Date.now();
    for (;;) {
      const n = solver.step(4096);
      if (n !== null) {
        scope.postMessage({ type: 'done', nonce: n, tried: solver.tried });
        return;
      }
      const now = Date.now();
      if (now - last >= 150) {
        last = now;
        scope.postMessage({ type: 'progress', tried: solver.tried });
      }
    }
  };
}

/* global WorkerGlobalScope */
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  runInWorker(globalThis);
}
