// The guest chat HTTP API (docs/guest-chat.md) as functions: its paths,
// the session's CSRF token on every POST, and the guest API's own error
// codes. The fetch wrapper, ApiError and the retry rules are the kit's
// (kit/api.js), re-exported here for the page's modules.

import { request, buildUrl, FALLBACK_CODES, ApiError } from './kit/api.js';

export {
  ApiError, isRetryable, backoff, Waker, waker, withRetry, newTxnId,
} from './kit/api.js';

export const BASE = '/api/guest/v1/';

let csrfToken = '';

export function setCsrf(token) {
  csrfToken = typeof token === 'string' ? token : '';
}

// The guest API's codes for a status that comes without a JSON body.
const fallbackCodes = Object.freeze({ ...FALLBACK_CODES, 403: 'csrf', 409: 'case_closed' });

function url(path, query) {
  return buildUrl(BASE, path, query);
}

async function get(path, { query, signal } = {}) {
  return request('GET', url(path, query), { signal, fallbackCodes });
}

function send(path, { json, body, type, query, signal } = {}) {
  return request('POST', url(path, query), { json, body, type, signal, csrf: csrfToken, fallbackCodes });
}

// post sends a state-changing request. A 403 'csrf' can mean our token is
// stale (another tab started a new session): fetch the session's token once
// and repeat.
async function post(path, opts = {}) {
  try {
    return await send(path, opts);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 403 || err.code !== 'csrf') throw err;
    const s = await get('session');
    setCsrf(s && s.csrf_token);
    return send(path, opts);
  }
}

const seg = encodeURIComponent;

export const api = {
  getSession: () => get('session'),
  // newSession asks for a fresh session even if the cookie is still valid
  // ("Neue Anfrage" after a closed case).
  createSession: (fresh = false) => post('session', { json: fresh ? { new: true } : {} }),
  info: ({ department, service }) => get('info', { query: department ? { department } : { service } }),
  challenge: () => post('challenge', { json: {} }),
  handover: (context, origin) => post('handover', { json: { context, origin } }),
  createCase: (body) => post('cases', { json: body }),
  getCase: (id) => get(`cases/${seg(id)}`),
  sendMessage: (id, txnId, body) => post(`cases/${seg(id)}/messages`, { json: { txn_id: txnId, body } }),
  uploadAttachment: (id, txnId, file) => post(`cases/${seg(id)}/attachments`, {
    query: { txn_id: txnId, name: file.name }, body: file, type: file.type || 'application/octet-stream',
  }),
  typing: (id, typing) => post(`cases/${seg(id)}/typing`, { json: { typing } }),
  read: (id, seq) => post(`cases/${seg(id)}/read`, { json: { seq } }),
  alive: (id) => post(`cases/${seg(id)}/alive`, { json: {} }),
  close: (id) => post(`cases/${seg(id)}/close`, { json: {} }),
  // endSession is "Sitzung beenden": this browser forgets the session.
  endSession: () => post('session/end', { json: {} }),
  videoKnock: (id) => post(`cases/${seg(id)}/video/knock`, { json: {} }),
  video: (id) => get(`cases/${seg(id)}/video`),
  videoLeave: (id) => request('DELETE', url(`cases/${seg(id)}/video`), { csrf: csrfToken, fallbackCodes }),
  eventsUrl: (id, after) => url(`cases/${seg(id)}/events`, after ? { after } : undefined),
  transcriptUrl: (id, lang) => url(`cases/${seg(id)}/transcript`, { lang }),
};
