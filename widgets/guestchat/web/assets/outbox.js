// The outbox: messages the citizen has written that the stream has not yet
// delivered back. Each has a txn_id chosen once; sending is retried with the
// same txn_id until the server takes it, so a restart of rathaus or a flaky
// network loses nothing and duplicates nothing. Text messages are kept in
// sessionStorage so a reload continues them; files live only in memory.

import { api, withRetry, newTxnId } from './api.js';

function storageKey(caseId) {
  return `rathaus.guest.outbox.${caseId}`;
}

// createOutbox(caseId, hooks):
//   hooks.pending(item)          an item is new (or restored after reload)
//   hooks.retrying(item, ms, err) a send failed and waits ms before the next try
//   hooks.sent(item)             the server has taken it (the stream will follow)
//   hooks.failed(item, err)      the server refused it for good
export function createOutbox(caseId, hooks) {
  let items = [];
  let running = false;
  let stopped = false;
  let current = null; // {item, controller}

  function persist() {
    const keep = items.filter((i) => i.kind === 'text').map(({ txn, kind, body, ts }) => ({ txn, kind, body, ts }));
    try {
      if (keep.length) sessionStorage.setItem(storageKey(caseId), JSON.stringify(keep));
      else sessionStorage.removeItem(storageKey(caseId));
    } catch { /* storage full or blocked: the in-memory queue still works */ }
  }

  function restore() {
    let saved = [];
    try {
      saved = JSON.parse(sessionStorage.getItem(storageKey(caseId)) || '[]');
    } catch {
      saved = [];
    }
    if (!Array.isArray(saved)) saved = [];
    for (const s of saved) {
      if (s && typeof s.txn === 'string' && typeof s.body === 'string' && !items.some((i) => i.txn === s.txn)) {
        const item = { txn: s.txn, kind: 'text', body: s.body, ts: s.ts || Date.now() };
        items.push(item);
        hooks.pending(item);
      }
    }
    pump();
  }

  function add(item) {
    items.push(item);
    persist();
    hooks.pending(item);
    pump();
    return item;
  }

  function post(item) {
    if (item.kind === 'file') return api.uploadAttachment(caseId, item.txn, item.file);
    return api.sendMessage(caseId, item.txn, item.body);
  }

  async function pump() {
    if (running || stopped) return;
    running = true;
    try {
      for (;;) {
        const item = items.find((i) => !i.sent);
        if (!item || stopped) break;
        const controller = new AbortController();
        current = { item, controller };
        try {
          await withRetry(() => post(item), {
            signal: controller.signal,
            onRetry: (err, ms) => hooks.retrying(item, ms, err),
          });
          item.sent = true;
          if (items.includes(item)) hooks.sent(item);
        } catch (err) {
          if (err && err.name === 'AbortError') {
            // delivered() or stop() took it out of the queue.
            continue;
          }
          items = items.filter((i) => i !== item);
          persist();
          hooks.failed(item, err);
        } finally {
          current = null;
        }
      }
    } finally {
      running = false;
    }
  }

  return {
    restore,
    sendText(body) {
      return add({ txn: newTxnId(), kind: 'text', body, ts: Date.now() });
    },
    sendFile(file) {
      return add({ txn: newTxnId(), kind: 'file', file, name: file.name, ts: Date.now() });
    },
    // delivered is called when the stream brings a citizen message with this
    // txn_id. It returns whether the item was still waiting here.
    delivered(txn) {
      const item = items.find((i) => i.txn === txn);
      if (!item) return false;
      items = items.filter((i) => i !== item);
      item.sent = true;
      persist();
      if (current && current.item === item) current.controller.abort();
      return true;
    },
    has(txn) {
      return items.some((i) => i.txn === txn);
    },
    // stop ends sending (the case closed, or the view is left). Unsent
    // items stay in storage only if keep is true.
    stop(keep = true) {
      stopped = true;
      if (current) current.controller.abort();
      if (!keep) {
        items = [];
        persist();
      }
    },
  };
}

export function forgetOutbox(caseId) {
  try {
    sessionStorage.removeItem(storageKey(caseId));
  } catch { /* ignore */ }
}
