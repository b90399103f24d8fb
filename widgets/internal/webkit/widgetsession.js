// The session of a room widget's page (ticket, video): sign-in with the
// widget API's OpenID token, the JSON API with the bearer session, one
// sign-in again when the session expired, and the refusal view.
import { $, show } from './dom.js';
import { t } from './i18n.js';
import { ApiError, parseRetryAfter } from './api.js';
import { WidgetApi } from './widgetapi.js';

export function createWidgetSession({ api = 'api/v1/', params = new URLSearchParams(location.search) } = {}) {
  // Hints from the widget URL's template variables: never identity.
  const roomId = params.get('roomId') || '';
  const widgetId = params.get('widgetId') || '';
  let session = '';
  let widgetApi = null;
  // Outside a widget host: the OpenID token from the Matrix sign-in, used
  // again while it is valid when the session expires.
  let standaloneToken = null;

  async function request(method, path, json) {
    const headers = { Accept: 'application/json' };
    if (session) headers.Authorization = `Bearer ${session}`;
    let body;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    }
    let res;
    try {
      res = await fetch(api + path, { method, headers, body, cache: 'no-store', credentials: 'omit', redirect: 'error' });
    } catch (err) {
      throw new ApiError(0, 'network', String(err && err.message));
    }
    const data = await res.json().catch(() => null);
    if (res.ok) return data;
    const code = (data && typeof data.errcode === 'string' && data.errcode) || 'unknown';
    throw new ApiError(res.status, code, data && data.error, parseRetryAfter(res.headers.get('Retry-After')));
  }

  async function openIDToken() {
    if (widgetApi) return widgetApi.getOpenID();
    if (standaloneToken && Date.now() < standaloneToken.expiresAt) return standaloneToken;
    throw new ApiError(401, 'signin_expired', 'the sign-in has expired');
  }

  async function signIn() {
    const token = await openIDToken();
    const answer = await request('POST', 'session', {
      access_token: token.access_token, matrix_server_name: token.matrix_server_name, room_id: roomId,
    });
    session = answer.session;
  }

  // The session ends with the page (closed panel, other room).
  window.addEventListener('pagehide', () => {
    if (!session) return;
    fetch(`${api}session`, { method: 'DELETE', headers: { Authorization: `Bearer ${session}` }, keepalive: true, credentials: 'omit' })
      .catch(() => {});
    session = '';
  });

  return {
    request,
    // act runs an API call; an expired session signs in again once.
    async act(method, path, json) {
      try {
        return await request(method, path, json);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) throw err;
        session = '';
        await signIn();
        return request(method, path, json);
      }
    },
    // start talks to the client and signs in. Outside a Matrix client,
    // standalone (if given) gets an OpenID token from the user's own
    // sign-in at their homeserver; without it, start throws the code
    // no_client.
    async start({ standalone } = {}) {
      if (window.parent === window) {
        if (!standalone) throw new ApiError(0, 'no_client', 'not in a widget host');
        const token = await standalone();
        const lifetime = Number.isFinite(token.expires_in) ? token.expires_in : 0;
        standaloneToken = { ...token, expiresAt: Date.now() + 1000 * Math.max(0, lifetime - 30) };
        await signIn();
        return;
      }
      widgetApi = new WidgetApi(widgetId);
      widgetApi.start();
      await widgetApi.contentLoaded();
      await widgetApi.ready;
      await signIn();
    },
  };
}

// errorText is the page's text for an error's code (error.<code>).
export function errorText(err) {
  const code = (err && err.code) || 'unknown';
  const text = t(`error.${code}`);
  return text === `error.${code}` ? t('error.unknown') : text;
}

// refuse replaces the page's content (id) by the refusal and says why.
export function refuse(err, content) {
  show($(content), false);
  show($('progress'), false);
  $('refused-text').textContent = errorText(err);
  show($('refused'), true);
  $('refused-heading').setAttribute('tabindex', '-1');
  $('refused-heading').focus();
  document.body.dataset.state = 'refused';
  document.body.dataset.code = (err && err.code) || 'unknown';
}
