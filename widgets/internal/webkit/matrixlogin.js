// Sign-in with the staff member's own Matrix account, for a room widget's
// page opened outside a widget host (a link from Element X or any other
// client, a bookmark). The browser talks to the authority's homeserver
// directly (its client-server API allows any origin, per the spec's CORS
// rules): it logs in with SSO or a password, asks for an OpenID token and
// logs the new device out again. rathaus sees only the OpenID token, the
// same one a widget host hands over, and checks it the same way.
import { ApiError } from './api.js';

const DEVICE_NAME = 'rathaus (Anmeldung / sign-in)';

// call sends one request to the homeserver; a refusal becomes an ApiError:
// the
// spec's errcode where there is one (M_FORBIDDEN, M_LIMIT_EXCEEDED, …),
// 'hs_unreachable' when the homeserver does not answer.
async function call(hs, method, path, { json, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(hs + path, {
      method, headers, body: json === undefined ? undefined : JSON.stringify(json),
      cache: 'no-store', credentials: 'omit', redirect: 'error', referrerPolicy: 'no-referrer',
    });
  } catch (err) {
    throw new ApiError(0, 'hs_unreachable', String(err && err.message));
  }
  const data = await res.json().catch(() => null);
  if (res.ok && data && typeof data === 'object') return data;
  const errcode = (data && typeof data.errcode === 'string' && data.errcode) || '';
  const code = {
    M_FORBIDDEN: 'login_failed', M_USER_DEACTIVATED: 'login_failed', M_INVALID_USERNAME: 'login_failed',
    M_LIMIT_EXCEEDED: 'rate_limited', M_UNKNOWN_TOKEN: 'login_failed',
  }[errcode] || (res.ok ? 'hs_unreachable' : 'hs_error');
  const retry = data && Number.isFinite(data.retry_after_ms) ? Math.ceil(data.retry_after_ms / 1000) : 0;
  throw new ApiError(res.status, code, errcode || `status ${res.status}`, retry);
}

// loginFlows says which ways of logging in the homeserver offers that
// this page can use: SSO (with its identity providers' names) and
// password.
export async function loginFlows(hs) {
  const data = await call(hs, 'GET', '/_matrix/client/v3/login');
  const flows = Array.isArray(data.flows) ? data.flows : [];
  const sso = flows.find((f) => f && (f.type === 'm.login.sso' || f.type === 'm.login.cas'));
  return {
    password: flows.some((f) => f && f.type === 'm.login.password'),
    sso: Boolean(sso),
    providers: sso && Array.isArray(sso.identity_providers)
      ? sso.identity_providers.filter((p) => p && typeof p.id === 'string' && typeof p.name === 'string') : [],
  };
}

// ssoURL is where the browser goes to log in with SSO; the homeserver
// sends it back to returnTo with ?loginToken=….
export function ssoURL(hs, returnTo, provider = '') {
  const path = provider
    ? `/_matrix/client/v3/login/sso/redirect/${encodeURIComponent(provider)}`
    : '/_matrix/client/v3/login/sso/redirect';
  return `${hs}${path}?redirectUrl=${encodeURIComponent(returnTo)}`;
}

// takeLoginToken removes the SSO login token from the address (so a
// reload or a copied link does not carry it) and returns it.
export function takeLoginToken() {
  const url = new URL(location.href);
  const token = url.searchParams.get('loginToken') || '';
  if (token) {
    url.searchParams.delete('loginToken');
    history.replaceState(null, '', url.toString());
  }
  return token;
}

// openIDWithPassword logs in with user (localpart or full Matrix ID) and
// password and returns an OpenID token.
export function openIDWithPassword(hs, user, password) {
  return openID(hs, {
    type: 'm.login.password', identifier: { type: 'm.id.user', user }, password,
    initial_device_display_name: DEVICE_NAME,
  });
}

// openIDWithLoginToken redeems the login token SSO returned.
export function openIDWithLoginToken(hs, token) {
  return openID(hs, { type: 'm.login.token', token, initial_device_display_name: DEVICE_NAME });
}

async function openID(hs, login) {
  const session = await call(hs, 'POST', '/_matrix/client/v3/login', { json: login });
  if (typeof session.access_token !== 'string' || typeof session.user_id !== 'string') {
    throw new ApiError(0, 'hs_error', 'login answer without access_token or user_id');
  }
  try {
    const token = await call(hs, 'POST',
      `/_matrix/client/v3/user/${encodeURIComponent(session.user_id)}/openid/request_token`,
      { json: {}, token: session.access_token });
    return { ...token, user_id: session.user_id };
  } finally {
    // The device existed only to get the OpenID token.
    await call(hs, 'POST', '/_matrix/client/v3/logout', { json: {}, token: session.access_token }).catch(() => {});
  }
}
