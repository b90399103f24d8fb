// The fetch wrapper of rathaus's pages: JSON in and out, error answers
// ({"errcode", "error"}, docs/guest-chat.md "Errors") as ApiError with the
// API's stable errcode, and withRetry() with exponential backoff for
// requests that are safe to repeat (GETs, and POSTs carrying a txn_id).
// What an API's paths are, and how it gets its CSRF token, is the page's.

// CSRF_HEADER carries the CSRF token of a state-changing request
// (httpapi.CSRFHeader).
export const CSRF_HEADER = 'X-Rathaus-CSRF';

export class ApiError extends Error {
  // status is 0 for a network error; code is the API's errcode, or
  // 'network', or 'unknown'; retryAfter is in seconds (429/503), or 0.
  constructor(status, code, message, retryAfter = 0) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

// FALLBACK_CODES name an error answer without a JSON body (a proxy's error
// page, say) by its status. A page adds the codes of its own API.
export const FALLBACK_CODES = Object.freeze({
  400: 'bad_request', 401: 'unauthorized', 404: 'not_found', 413: 'too_large', 415: 'unsupported_type',
  429: 'rate_limited', 503: 'unavailable',
});

// parseRetryAfter reads a Retry-After header (seconds or a date) as
// seconds from now; 0 if there is none.
export function parseRetryAfter(value) {
  if (!value) return 0;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return s;
  const when = Date.parse(value);
  return Number.isNaN(when) ? 0 : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

// buildUrl joins base, path and the query parameters that have a value.
export function buildUrl(base, path, query) {
  const params = new URLSearchParams();
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    }
  }
  const qs = params.toString();
  return base + path + (qs ? `?${qs}` : '');
}

// request sends one request and returns the parsed JSON answer (null for
// an empty one). json is sent as the JSON body; otherwise body is sent
// as it is with Content-Type type. csrf, if set, goes in CSRF_HEADER.
// Every failure throws an ApiError; an abort rethrows the AbortError.
export async function request(method, url, {
  json, body, type, csrf, signal, fallbackCodes = FALLBACK_CODES,
} = {}) {
  const headers = { Accept: 'application/json' };
  if (csrf) headers[CSRF_HEADER] = csrf;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (type) {
    headers['Content-Type'] = type;
  }
  let res;
  try {
    res = await fetch(url, {
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
  // errcode is the API's stable code (a page's i18n key); error is
  // English, for developers.
  const code = (data && typeof data.errcode === 'string' && data.errcode) || fallbackCodes[res.status]
    || (res.status >= 500 ? 'unavailable' : 'unknown');
  throw new ApiError(res.status, code, data && data.error, parseRetryAfter(res.headers.get('Retry-After')));
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

// waker is the page's one Waker: withRetry sleeps on it.
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

// newTxnId returns a client transaction id: 8–64 of [A-Za-z0-9_-], the
// form rathaus's APIs accept.
export function newTxnId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return `w${s}`;
}
