// The guest chat HTTP API (docs/guest-chat.md) as functions: JSON in and
// out, the X-Rathaus-CSRF header on every POST, errors as ApiError with the
// contract's stable code, and withRetry() for requests that are safe to
// repeat (GETs, and POSTs carrying a txn_id).

export const BASE = '/api/guest/v1/';

let csrfToken = '';

export function setCsrf(token) {
  csrfToken = typeof token === 'string' ? token : '';
}

export class ApiError extends Error {
  // status is 0 for a network error; code is the contract's code, or
  // 'network', or 'unknown'; retryAfter is in seconds (429/503), or 0.
  constructor(status, code, message, retryAfter = 0) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

const fallbackCodes = {
  400: 'bad_request', 401: 'unauthorized', 403: 'csrf', 404: 'not_found', 409: 'case_closed',
  413: 'too_large', 415: 'unsupported_type', 429: 'rate_limited', 503: 'unavailable',
};

function parseRetryAfter(value) {
  if (!value) return 0;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return s;
  const when = Date.parse(value);
  return Number.isNaN(when) ? 0 : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

function url(path, query) {
  const params = new URLSearchParams();
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    }
  }
  const qs = params.toString();
  return BASE + path + (qs ? `?${qs}` : '');
}

async function send(method, path, { json, body, type, query, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (method === 'POST') {
    if (csrfToken) headers['X-Rathaus-CSRF'] = csrfToken;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (type) {
      headers['Content-Type'] = type;
    }
  }
  let res;
  try {
    res = await fetch(url(path, query), {
      method, headers, body, signal, credentials: 'same-origin', cache: 'no-store', redirect: 'error',
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', String(err && err.message));
  }
  const text = await res.text().catch(() => '');
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data;
  // Error answers are {"errcode", "error"}; errcode is the contract's
  // stable code (our i18n key), error is English for developers.
  const code = (data && typeof data.errcode === 'string' && data.errcode) || fallbackCodes[res.status]
    || (res.status >= 500 ? 'unavailable' : 'unknown');
  throw new ApiError(res.status, code, data && data.error, parseRetryAfter(res.headers.get('Retry-After')));
}

async function get(path, opts) {
  return send('GET', path, opts);
}

// post sends a state-changing request. A 403 'csrf' can mean our token is
// stale (another tab started a new session): fetch the session's token once
// and repeat.
async function post(path, opts = {}) {
  try {
    return await send('POST', path, opts);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 403 || err.code !== 'csrf') throw err;
    const s = await send('GET', 'session');
    setCsrf(s && s.csrf_token);
    return send('POST', path, opts);
  }
}

// isRetryable says whether repeating the same request may succeed: the
// network failed, the server is (re)starting, or we were told to wait.
export function isRetryable(err) {
  return err instanceof ApiError && (err.status === 0 || err.status === 429 || err.status >= 500);
}

// backoff gives the wait before attempt n (0-based): exponential with
// jitter, capped, or what Retry-After said.
export function backoff(err, attempt, cap = 30000) {
  if (err && err.retryAfter > 0) return err.retryAfter * 1000;
  const base = Math.min(cap, 500 * 2 ** attempt);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

function abortError() {
  return new DOMException('aborted', 'AbortError');
}

// A Waker lets the page cut a retry wait short (the browser came online).
export class Waker {
  constructor() {
    this.waiters = new Set();
  }
  // sleep resolves after ms, or at wake(); it rejects with an AbortError
  // as soon as signal is (or already was) aborted.
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      let timer;
      const finish = (settle) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        if (signal) signal.removeEventListener('abort', abort);
        settle();
      };
      const wake = () => finish(resolve);
      const abort = () => finish(() => reject(abortError()));
      if (signal && signal.aborted) {
        abort();
        return;
      }
      timer = setTimeout(wake, ms);
      this.waiters.add(wake);
      if (signal) signal.addEventListener('abort', abort, { once: true });
    });
  }
  wake() {
    for (const w of [...this.waiters]) w();
  }
}

export const waker = new Waker();

// withRetry calls fn until it succeeds or fails with a non-retryable
// error. onRetry(err, delayMs, attempt) is told before each wait.
//
// Once signal is aborted no further attempt is made: an attempt that fails
// after the abort, or a wait between attempts, rejects with an AbortError.
// (Without this, an item the stream delivered while its send was failing
// was posted again and again with no pause: a hot loop against a server
// that is down.)
export async function withRetry(fn, { onRetry, signal, maxAttempts = Infinity, cap = 30000 } = {}) {
  for (let attempt = 0; ; attempt++) {
    if (signal && signal.aborted) throw abortError();
    try {
      return await fn();
    } catch (err) {
      if (signal && signal.aborted) throw abortError();
      if (!isRetryable(err) || attempt + 1 >= maxAttempts) throw err;
      const delay = backoff(err, attempt, cap);
      if (onRetry) onRetry(err, delay, attempt);
      await waker.sleep(delay, signal);
    }
  }
}

// newTxnId returns an id of the contract's form (8–64 of [A-Za-z0-9_-]).
export function newTxnId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return `w${s}`;
}

const seg = encodeURIComponent;

export const api = {
  getSession: () => get('session'),
  // newSession asks for a fresh session even if the cookie is still valid
  // ("Neue Anfrage" after a closed case).
  createSession: (fresh = false) => post('session', { json: fresh ? { new: true } : {} }),
  info: ({ department, service }) => get('info', { query: department ? { department } : { service } }),
  challenge: () => post('challenge', { json: {} }),
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
  eventsUrl: (id, after) => url(`cases/${seg(id)}/events`, after ? { after } : undefined),
  transcriptUrl: (id, lang) => url(`cases/${seg(id)}/transcript`, { lang }),
};
