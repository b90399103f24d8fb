import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reasonOf, constraintsOf, open } from './devices.js';

test('reasons of getUserMedia errors', () => {
  assert.equal(reasonOf({ name: 'NotAllowedError' }), 'denied');
  assert.equal(reasonOf({ name: 'NotFoundError' }), 'none');
  assert.equal(reasonOf({ name: 'NotReadableError' }), 'busy');
  assert.equal(reasonOf(new Error('x')), 'failed');
});

test('constraints name the chosen devices', () => {
  assert.deepEqual(constraintsOf({ camera: 'c1', mic: 'm1' }).audio, { deviceId: { exact: 'm1' } });
  assert.equal(constraintsOf({ video: false }).video, false);
  assert.equal(constraintsOf({ camera: 'c1' }).video.deviceId.exact, 'c1');
});

test('no camera falls back to sound only', async () => {
  const calls = [];
  const media = { getUserMedia: async (c) => { calls.push(c); if (c.video) throw Object.assign(new Error(), { name: 'NotFoundError' }); return { audioOnly: true }; } };
  const got = await open({}, media);
  assert.equal(got.reason, 'none');
  assert.deepEqual(got.stream, { audioOnly: true });
  assert.equal(calls.length, 2);
  const denied = await open({}, { getUserMedia: async () => { throw Object.assign(new Error(), { name: 'NotAllowedError' }); } });
  assert.deepEqual(denied, { stream: null, reason: 'denied' });
});
