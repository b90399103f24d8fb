import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';

// The kit's fetch wrapper against a fake fetch, and its retry rules.

let calls = [];
let answer = null; // (url, init) => Response, or throws
globalThis.fetch = async (url, init) => {
  calls.push({ url: String(url), init });
  return answer(url, init);
};
afterEach(() => {
  calls = [];
  answer = null;
});

const {
  request, buildUrl, ApiError, FALLBACK_CODES, CSRF_HEADER, parseRetryAfter, isRetryable, backoff, Waker, withRetry,
  newTxnId,
} = await import('./api.js');

const json = (status, body, headers = {}) => new Response(body === undefined ? '' : JSON.stringify(body),
  { status, headers: { 'Content-Type': 'application/json', ...headers } });

test('a JSON answer is parsed, an empty one is null', async () => {
  answer = () => json(200, { csrf_token: 'x', case: null });
  assert.deepEqual(await request('GET', '/api/v1/session'), { csrf_token: 'x', case: null });
  answer = () => new Response(null, { status: 204 });
  assert.equal(await request('POST', '/api/v1/typing', { json: { typing: true } }), null);
});

test('the request carries JSON, or a body of its type, and the CSRF token', async () => {
  answer = () => json(200, {});
  await request('POST', '/api/v1/cases', { json: { question: 'Hallo' }, csrf: 'tok' });
  const { init } = calls[0];
  assert.equal(init.method, 'POST');
  assert.equal(init.body, '{"question":"Hallo"}');
  assert.equal(init.headers['Content-Type'], 'application/json');
  assert.equal(init.headers[CSRF_HEADER], 'tok');
  assert.equal(CSRF_HEADER, 'X-Rathaus-CSRF');
  assert.equal(init.credentials, 'same-origin');
  assert.equal(init.redirect, 'error');

  await request('POST', '/api/v1/files', { body: 'PDF', type: 'application/pdf' });
  assert.equal(calls[1].init.headers['Content-Type'], 'application/pdf');
  assert.equal(calls[1].init.body, 'PDF');
  assert.equal(calls[1].init.headers[CSRF_HEADER], undefined, 'no token, no header');
});

test('an error answer becomes an ApiError with its errcode and message', async () => {
  answer = () => json(409, { errcode: 'case_closed', error: 'the case is no longer open' });
  await assert.rejects(request('POST', '/x', { json: {} }), (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 409);
    assert.equal(err.code, 'case_closed');
    assert.equal(err.message, 'the case is no longer open');
    assert.equal(err.retryAfter, 0);
    return true;
  });
});

test('Retry-After is read in seconds or as a date', async () => {
  answer = () => json(429, { errcode: 'rate_limited', error: 'x' }, { 'Retry-After': '12' });
  await assert.rejects(request('GET', '/x'), { code: 'rate_limited', retryAfter: 12 });
  assert.equal(parseRetryAfter(''), 0);
  assert.equal(parseRetryAfter(null), 0);
  assert.equal(parseRetryAfter('0'), 0);
  assert.equal(parseRetryAfter('nonsense'), 0);
  const inTen = new Date(Date.now() + 10500).toUTCString();
  assert.ok([10, 11].includes(parseRetryAfter(inTen)), parseRetryAfter(inTen));
  assert.equal(parseRetryAfter(new Date(Date.now() - 60000).toUTCString()), 0);
});

test('without a JSON body the status names the error', async () => {
  const cases = [
    [413, undefined, 'too_large'], [404, undefined, 'not_found'], [502, undefined, 'unavailable'],
    [500, undefined, 'unavailable'], [418, undefined, 'unknown'], [400, { code: 'old_shape' }, 'bad_request'],
  ];
  for (const [status, body, code] of cases) {
    answer = () => (body ? json(status, body) : new Response('<html>proxy</html>', { status }));
    await assert.rejects(request('GET', '/x'), { status, code }, `${status}`);
  }
  // A page adds its API's own codes.
  answer = () => new Response('', { status: 409 });
  await assert.rejects(request('GET', '/x', { fallbackCodes: { ...FALLBACK_CODES, 409: 'case_closed' } }),
    { code: 'case_closed' });
});

test('a network failure is status 0, code network; an abort stays an abort', async () => {
  answer = () => { throw new TypeError('Failed to fetch'); };
  await assert.rejects(request('GET', '/x'), { status: 0, code: 'network' });
  answer = () => { throw new DOMException('aborted', 'AbortError'); };
  await assert.rejects(request('GET', '/x'), { name: 'AbortError' });
});

test('buildUrl keeps only query values that are set', () => {
  assert.equal(buildUrl('/api/v1/', 'info', { department: 'bauamt', service: '' }), '/api/v1/info?department=bauamt');
  assert.equal(buildUrl('/api/v1/', 'cases/1/events', { after: 0, x: null }), '/api/v1/cases/1/events?after=0');
  assert.equal(buildUrl('/api/v1/', 'session'), '/api/v1/session');
});

test('what is retried, and how long to wait', () => {
  assert.equal(isRetryable(new ApiError(0, 'network')), true);
  assert.equal(isRetryable(new ApiError(429, 'rate_limited')), true);
  assert.equal(isRetryable(new ApiError(503, 'unavailable')), true);
  assert.equal(isRetryable(new ApiError(409, 'case_closed')), false);
  assert.equal(isRetryable(new Error('x')), false);
  assert.equal(backoff(new ApiError(429, 'rate_limited', '', 7), 5), 7000, 'Retry-After wins');
  for (let attempt = 0; attempt < 12; attempt++) {
    const base = Math.min(30000, 500 * 2 ** attempt);
    const d = backoff(null, attempt);
    assert.ok(d >= base / 2 && d <= base, `attempt ${attempt}: ${d}`);
  }
});

test('withRetry retries until success, and gives up on a refusal', async () => {
  let n = 0;
  assert.equal(await withRetry(async () => {
    if (n++ < 2) throw new ApiError(503, 'unavailable', '', 0.001);
    return 'ok';
  }), 'ok');
  assert.equal(n, 3);
  await assert.rejects(withRetry(async () => { throw new ApiError(400, 'bad_request'); }), { code: 'bad_request' });
  let tries = 0;
  await assert.rejects(withRetry(async () => { tries++; throw new ApiError(0, 'network', '', 0.001); }, { maxAttempts: 3 }),
    { code: 'network' });
  assert.equal(tries, 3);
});

test('newTxnId has the form the APIs accept and differs every time', () => {
  const a = newTxnId();
  assert.match(a, /^[A-Za-z0-9_-]{8,64}$/);
  assert.notEqual(newTxnId(), a);
});

test('Waker.sleep rejects at once for an aborted signal', async () => {
  const w = new Waker();
  const c = new AbortController();
  c.abort();
  const started = Date.now();
  await assert.rejects(w.sleep(10000, c.signal), { name: 'AbortError' });
  assert.ok(Date.now() - started < 1000);
});

test('Waker.sleep rejects when the signal is aborted during the wait', async () => {
  const w = new Waker();
  const c = new AbortController();
  const p = w.sleep(10000, c.signal);
  setTimeout(() => c.abort(), 10);
  await assert.rejects(p, { name: 'AbortError' });
});

test('Waker.wake ends a wait early', async () => {
  const w = new Waker();
  const p = w.sleep(10000);
  w.wake();
  await p;
});

test('withRetry stops at an aborted signal instead of trying again', async () => {
  const c = new AbortController();
  let calls = 0;
  const p = withRetry(async () => {
    calls++;
    c.abort();
    throw new ApiError(0, 'network');
  }, { signal: c.signal });
  await assert.rejects(p, { name: 'AbortError' });
  assert.equal(calls, 1);
});
