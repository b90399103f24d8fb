// The widget side of the widget API, against a scripted client.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const listeners = [];
globalThis.window = { addEventListener: (type, fn) => { if (type === 'message') listeners.push(fn); } };
const { WidgetApi } = await import('./widgetapi.js');

// A client window: it records what the widget posts and can answer.
function client() {
  const posted = [];
  return { posted, postMessage: (msg, origin) => posted.push({ msg, origin }) };
}

function deliver(source, data, origin = 'https://element.example') {
  for (const fn of listeners) fn({ source, data, origin });
}

function fresh() {
  listeners.length = 0;
  const parent = client();
  const api = new WidgetApi('w1', parent);
  api.start();
  return { api, parent };
}

test('answers capabilities with none and becomes ready on notify_capabilities', async () => {
  const { api, parent } = fresh();
  deliver(parent, { api: 'toWidget', widgetId: 'w1', requestId: 'r1', action: 'capabilities', data: {} });
  assert.deepEqual(parent.posted[0].msg.response, { capabilities: [] });
  assert.equal(parent.posted[0].origin, 'https://element.example', 'replies go to the client origin only');
  deliver(parent, { api: 'toWidget', widgetId: 'w1', requestId: 'r2', action: 'notify_capabilities', data: { approved: [] } });
  await api.ready;
  deliver(parent, { api: 'toWidget', widgetId: 'w1', requestId: 'r3', action: 'something_else', data: {} });
  assert.match(parent.posted[2].msg.response.error.message, /unsupported/);
});

test('ignores other windows and other widgets', () => {
  const { parent } = fresh();
  const stranger = client();
  deliver(stranger, { api: 'toWidget', widgetId: 'w1', requestId: 'x', action: 'capabilities', data: {} });
  deliver(parent, { api: 'toWidget', widgetId: 'w2', requestId: 'y', action: 'capabilities', data: {} });
  deliver(parent, 'not an object');
  assert.equal(parent.posted.length, 0);
});

test('get_openid answered at once', async () => {
  const { api, parent } = fresh();
  const pending = api.getOpenID();
  const req = parent.posted[0].msg;
  assert.equal(req.api, 'fromWidget');
  assert.equal(req.action, 'get_openid');
  deliver(parent, { ...req, response: { state: 'allowed', access_token: 'tok', matrix_server_name: 'rathaus.test', expires_in: 3600 } });
  const token = await pending;
  assert.equal(token.access_token, 'tok');
  assert.equal(token.matrix_server_name, 'rathaus.test');
});

test('get_openid after the user allowed it in the client', async () => {
  const { api, parent } = fresh();
  const pending = api.getOpenID();
  const req = parent.posted[0].msg;
  deliver(parent, { ...req, response: { state: 'request' } });
  await new Promise((resolve) => setImmediate(resolve));
  deliver(parent, { api: 'toWidget', widgetId: 'w1', requestId: 'c1', action: 'openid_credentials',
    data: { state: 'allowed', original_request_id: req.requestId, access_token: 'later', matrix_server_name: 'rathaus.test' } });
  assert.equal((await pending).access_token, 'later');
});

test('get_openid refused', async () => {
  const { api, parent } = fresh();
  const pending = api.getOpenID();
  deliver(parent, { ...parent.posted[0].msg, response: { state: 'blocked' } });
  await assert.rejects(pending, (err) => err.code === 'blocked');
});
