import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';

// The sign-in at the homeserver against a fake fetch: what is sent, in
// which order, and how refusals are named. The real homeserver is in
// cmd/rathaus TestBrowserVideoCall.

let calls = [];
let answer = null;
globalThis.fetch = async (url, init) => {
  calls.push({ url: String(url), method: init.method, auth: init.headers.Authorization, body: init.body && JSON.parse(init.body) });
  return answer(String(url), init);
};
afterEach(() => {
  calls = [];
  answer = null;
});

const { loginFlows, ssoURL, openIDWithPassword, openIDWithLoginToken } = await import('./matrixlogin.js');

const HS = 'https://matrix.pruefheim.de';
const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

function homeserver({ loginStatus = 200, openidStatus = 200 } = {}) {
  return (url) => {
    if (url.endsWith('/_matrix/client/v3/login')) {
      return loginStatus === 200 ? json(200, { access_token: 'at', user_id: '@anna:pruefheim.de', device_id: 'D' })
        : json(loginStatus, { errcode: loginStatus === 429 ? 'M_LIMIT_EXCEEDED' : 'M_FORBIDDEN', error: 'no', retry_after_ms: 2500 });
    }
    if (url.includes('/openid/request_token')) {
      return openidStatus === 200 ? json(200, { access_token: 'oid', token_type: 'Bearer', matrix_server_name: 'pruefheim.de', expires_in: 3600 })
        : json(openidStatus, { errcode: 'M_UNKNOWN', error: 'broken' });
    }
    if (url.endsWith('/logout')) return json(200, {});
    return json(404, { errcode: 'M_UNRECOGNIZED' });
  };
}

test('password sign-in: login, OpenID token, logout of the device it made', async () => {
  answer = homeserver();
  const token = await openIDWithPassword(HS, 'anna', 'geheim');
  assert.deepEqual(token, { access_token: 'oid', token_type: 'Bearer', matrix_server_name: 'pruefheim.de', expires_in: 3600, user_id: '@anna:pruefheim.de' });
  assert.deepEqual(calls.map((c) => [c.method, c.url.slice(HS.length), c.auth]), [
    ['POST', '/_matrix/client/v3/login', undefined],
    ['POST', '/_matrix/client/v3/user/%40anna%3Apruefheim.de/openid/request_token', 'Bearer at'],
    ['POST', '/_matrix/client/v3/logout', 'Bearer at'],
  ]);
  assert.deepEqual(calls[0].body.identifier, { type: 'm.id.user', user: 'anna' });
  assert.equal(calls[0].body.type, 'm.login.password');
});

test('the device is logged out even when the OpenID token is refused', async () => {
  answer = homeserver({ openidStatus: 500 });
  await assert.rejects(openIDWithPassword(HS, 'anna', 'geheim'), { code: 'hs_error' });
  assert.equal(calls.at(-1).url, `${HS}/_matrix/client/v3/logout`);
});

test('refusals are named: wrong password, rate limit, unreachable', async () => {
  answer = homeserver({ loginStatus: 403 });
  await assert.rejects(openIDWithPassword(HS, 'anna', 'falsch'), { code: 'login_failed', status: 403 });
  answer = homeserver({ loginStatus: 429 });
  await assert.rejects(openIDWithPassword(HS, 'anna', 'geheim'), { code: 'rate_limited', retryAfter: 3 });
  answer = () => { throw new TypeError('Failed to fetch'); };
  await assert.rejects(openIDWithLoginToken(HS, 'lt'), { code: 'hs_unreachable' });
});

test('SSO: the login token is redeemed; the redirect carries the way back', async () => {
  answer = homeserver();
  await openIDWithLoginToken(HS, 'lt-123');
  assert.deepEqual({ type: calls[0].body.type, token: calls[0].body.token }, { type: 'm.login.token', token: 'lt-123' });
  assert.equal(ssoURL(HS, 'https://rathaus.pruefheim.de/widgets/video/?roomId=!a:b'),
    `${HS}/_matrix/client/v3/login/sso/redirect?redirectUrl=https%3A%2F%2Frathaus.pruefheim.de%2Fwidgets%2Fvideo%2F%3FroomId%3D!a%3Ab`);
  assert.equal(ssoURL(HS, 'https://x/', 'oidc-keycloak'), `${HS}/_matrix/client/v3/login/sso/redirect/oidc-keycloak?redirectUrl=https%3A%2F%2Fx%2F`);
});

test('login flows: password, SSO with its providers, and nothing else', async () => {
  answer = () => json(200, { flows: [{ type: 'm.login.password' }, { type: 'm.login.sso', identity_providers: [{ id: 'kc', name: 'Keycloak' }, { bad: 1 }] }, { type: 'm.login.token' }] });
  assert.deepEqual(await loginFlows(HS), { password: true, sso: true, providers: [{ id: 'kc', name: 'Keycloak' }] });
  answer = () => json(200, { flows: [{ type: 'm.login.application_service' }] });
  assert.deepEqual(await loginFlows(HS), { password: false, sso: false, providers: [] });
});
