// The widget side of the Matrix widget API (MSC2762), as much as the ticket
// widget needs: it answers the client's requests (capabilities: none;
// notify_capabilities; openid_credentials) and asks for an OpenID token
// (get_openid). Messages count only if they come from the window that
// embeds us and name our widget id; once the client has spoken, replies go
// to its origin only.

const REQUEST_TIMEOUT_MS = 10000;
// How long get_openid may wait for the user to allow it in the client.
const OPENID_TIMEOUT_MS = 120000;

export class WidgetApi {
  constructor(widgetId, target = window.parent) {
    this.widgetId = widgetId || null;
    this.target = target;
    this.origin = '*';
    this.serial = 0;
    this.pending = new Map(); // requestId → {resolve, reject, timer}
    this.openidWaiters = new Map(); // original request id → {resolve, reject}
    this.ready = new Promise((resolve) => { this.markReady = resolve; });
    this.onMessage = this.onMessage.bind(this);
  }

  start() {
    window.addEventListener('message', this.onMessage);
  }

  onMessage(ev) {
    if (ev.source !== this.target) return;
    const msg = ev.data;
    if (!msg || typeof msg !== 'object' || typeof msg.requestId !== 'string' || typeof msg.action !== 'string') return;
    if (this.widgetId === null && msg.api === 'toWidget' && typeof msg.widgetId === 'string') this.widgetId = msg.widgetId;
    if (msg.widgetId !== this.widgetId) return;
    if (msg.api === 'fromWidget' && msg.response) {
      const p = this.pending.get(msg.requestId);
      if (!p) return;
      this.pending.delete(msg.requestId);
      clearTimeout(p.timer);
      if (msg.response.error) p.reject(new Error(String(msg.response.error.message || 'widget api error')));
      else p.resolve(msg.response);
      return;
    }
    if (msg.api !== 'toWidget' || msg.response) return;
    if (this.origin === '*' && typeof ev.origin === 'string' && ev.origin !== 'null') this.origin = ev.origin;
    switch (msg.action) {
      case 'capabilities':
        this.reply(msg, { capabilities: [] });
        break;
      case 'notify_capabilities':
        this.reply(msg, {});
        this.markReady();
        break;
      case 'openid_credentials': {
        this.reply(msg, {});
        const waiter = this.openidWaiters.get(msg.data && msg.data.original_request_id);
        if (waiter) waiter.resolve(msg.data);
        break;
      }
      default:
        this.reply(msg, { error: { message: `unsupported action ${msg.action}` } });
    }
  }

  reply(request, response) {
    this.target.postMessage({ ...request, response }, this.origin);
  }

  send(action, data = {}, timeout = REQUEST_TIMEOUT_MS) {
    const requestId = `ticket-${Date.now()}-${++this.serial}`;
    const msg = { api: 'fromWidget', widgetId: this.widgetId, requestId, action, data };
    const promise = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`no answer to ${action}`));
      }, timeout);
      this.pending.set(requestId, { resolve, reject, timer });
    });
    this.target.postMessage(msg, this.origin);
    return { requestId, promise };
  }

  // contentLoaded tells the client the page is ready (waitForIframeLoad
  // is false in the widget's state), which starts the capabilities
  // exchange.
  contentLoaded() {
    return this.send('content_loaded').promise;
  }

  // getOpenID returns {access_token, matrix_server_name, ...}; it throws
  // with code 'blocked' if the user or client refused.
  async getOpenID() {
    const { requestId, promise } = this.send('get_openid', {}, OPENID_TIMEOUT_MS);
    let answer = await promise;
    if (answer.state === 'request') {
      answer = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no OpenID credentials')), OPENID_TIMEOUT_MS);
        this.openidWaiters.set(requestId, {
          resolve: (data) => { clearTimeout(timer); resolve(data); },
          reject,
        });
      });
      this.openidWaiters.delete(requestId);
    }
    if (answer.state !== 'allowed' || typeof answer.access_token !== 'string' || typeof answer.matrix_server_name !== 'string') {
      const err = new Error('OpenID refused');
      err.code = 'blocked';
      throw err;
    }
    return answer;
  }
}
