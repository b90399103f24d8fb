// The chat view: case header, the live stream, the message log, the
// composer with attachments, typing and read receipts, the idle warning,
// closing the case and ending the session.

import { api, withRetry, backoff } from './api.js';
import {
  t, statusText, noticeText, submissionOf, errorText, formatTime, formatWhen, formatBytes, typeLabel, getLang,
} from './i18n.js';
import { $, el, show, showError, clearError, safeUrl } from './kit/dom.js';
import { createOutbox, forgetOutbox } from './outbox.js';
import { createDialog } from './kit/dialog.js';

const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 5000;
const STAFF_TYPING_TIMEOUT_MS = 30000;
const READ_DELAY_MS = 1000;
const SESSION_CHECK_MS = 5000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createChat({ onNewCase, onEndSession, onClosed = () => {}, onVideo = () => {} }) {
  const list = $('message-list');
  const log = $('messages');
  const input = $('message-input');
  const composer = $('composer');
  const attachInput = $('attach-input');
  const counter = $('message-counter');
  const connection = $('connection-status');
  const typingIndicator = $('typing-indicator');
  const closeDialog = createDialog($('close-dialog'));
  const idleDialog = createDialog($('idle-dialog'));

  let c = null; // the Case
  let info = null;
  let outbox = null;
  let es = null;
  let lastSeq = 0;
  let lastEventId = '';
  let lastStaffSeq = 0;
  let lastReadSent = 0;
  let readSeq = 0;
  let team = '';
  let timers = {};
  let typingSentAt = 0;
  let typingOn = false;
  let disconnected = false;
  let lastSessionCheck = 0;
  let reconnectAttempt = 0;
  let gone = false;
  // closedByYou: the citizen closed the case here, which ended the session
  // too (gone is then true as well).
  let closedByYou = false;
  let abandonAt = null;

  const maxLength = () => (info && info.limits && info.limits.max_message_length) || 4000;
  const maxBytes = () => (info && info.limits && typeof info.limits.max_attachment_bytes === 'number'
    ? info.limits.max_attachment_bytes : 10485760);
  const allowedTypes = () => (info && info.limits && Array.isArray(info.limits.attachment_types)
    ? info.limits.attachment_types : ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf']);
  const typesText = () => allowedTypes().map(typeLabel).join(', ');
  const warnBeforeMs = () => ((info && info.idle && info.idle.warn_before_seconds) || 900) * 1000;

  function clearTimer(name) {
    clearTimeout(timers[name]);
    delete timers[name];
  }

  function setTimer(name, fn, ms) {
    clearTimer(name);
    timers[name] = setTimeout(() => {
      delete timers[name];
      fn();
    }, Math.min(Math.max(0, ms), MAX_TIMER_MS));
  }

  // ---- rendering -------------------------------------------------------

  function senderName(from) {
    if (from === 'citizen') return t('chat.you');
    if (from === 'staff') return team || (c && c.department && c.department.name) || t('chat.team');
    return t('chat.system');
  }

  function meta(from, ts, extra) {
    const p = el('p', { class: 'meta' }, el('span', { class: 'sender', text: senderName(from) }));
    const d = ts ? new Date(ts) : null;
    if (d && !Number.isNaN(d.getTime())) {
      p.append(' ', el('time', { attrs: { datetime: d.toISOString() }, text: formatTime(d) }));
    }
    if (extra) p.append(' ', extra);
    return p;
  }

  function attachmentNode(a, kind) {
    const href = safeUrl(a.url);
    const name = typeof a.name === 'string' && a.name ? a.name : 'Datei';
    const label = t('chat.attachment', { name, size: formatBytes(Number(a.size) || 0) });
    if (!href) return el('p', { class: 'attachment-missing', text: label });
    const wrap = el('p', { class: 'attachment-wrap' });
    const link = el('a', { class: 'attachment', attrs: { href, download: kind === 'image' ? undefined : name } });
    if (kind === 'image' && /^image\//.test(a.type || '')) {
      link.append(el('img', { attrs: { src: href, alt: t('chat.imageAlt', { name }), loading: 'lazy' } }));
      link.append(el('span', { class: 'attachment-label', text: label }));
    } else {
      link.textContent = label;
    }
    wrap.append(link);
    return wrap;
  }

  function messageNode(d) {
    const from = ['citizen', 'staff', 'system'].includes(d.from) ? d.from : 'system';
    const li = el('li', {
      class: `message from-${from}${d.kind === 'notice' ? ' notice-message' : ''}`,
      data: { seq: d.seq, from, txn: from === 'citizen' && d.txn_id ? d.txn_id : undefined },
    });
    const receipt = from === 'citizen' ? el('span', { class: 'receipt' }) : null;
    li.append(meta(from, d.ts, receipt));
    if (d.kind === 'redacted') {
      // Staff removed it: neither text nor file stays on the page.
      li.classList.add('redacted');
      li.append(el('p', { class: 'body', text: t('chat.redacted') }));
      return li;
    }
    if (typeof d.body === 'string' && d.body !== '') li.append(el('p', { class: 'body', text: d.body }));
    if (d.edited_at) li.append(el('p', { class: 'edited', text: t('chat.edited') }));
    if (d.attachment && (d.kind === 'image' || d.kind === 'file')) li.append(attachmentNode(d.attachment, d.kind));
    if (from === 'citizen' && d.seq <= readSeq) markRead(li);
    return li;
  }

  function eventNode(seq, text) {
    return el('li', { class: 'event', data: { seq } }, el('p', { class: 'body', text }));
  }

  function pendingNode(item) {
    const state = el('span', { class: 'state', text: t('chat.pending') });
    const li = el('li', { class: 'message from-citizen pending', data: { txn: item.txn, from: 'citizen' } });
    li.append(meta('citizen', item.ts, state));
    li.append(el('p', {
      class: 'body',
      text: item.kind === 'file' ? t('chat.uploading', { name: item.name }) : item.body,
    }));
    return li;
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  // insert puts a delivered item before the first pending one: the stream's
  // order is the conversation's order; pending messages stay last.
  function insert(node) {
    const stick = nearBottom();
    const firstPending = list.querySelector('li.pending');
    list.insertBefore(node, firstPending);
    if (stick) log.scrollTop = log.scrollHeight;
  }

  function appendPending(node) {
    list.append(node);
    log.scrollTop = log.scrollHeight;
  }

  function markRead(li) {
    const r = li.querySelector('.receipt');
    if (r && !r.textContent) r.textContent = t('chat.read');
    li.classList.add('read');
  }

  function markAllRead() {
    for (const li of list.querySelectorAll('li.message[data-from="citizen"]:not(.pending)')) {
      if (Number(li.dataset.seq) <= readSeq) markRead(li);
    }
  }

  function pendingLi(txn) {
    return [...list.querySelectorAll('li.pending')].find((li) => li.dataset.txn === txn) || null;
  }

  // ---- case state --------------------------------------------------------

  // renderQueue shows where a waiting citizen stands. While the department
  // is closed the position means nothing: the citizen keeps seeing that
  // nobody answers before the next opening, when that is, and what
  // happens meanwhile.
  function renderQueue(position) {
    const q = $('queue-position');
    const waiting = c.status === 'queued' && c.open;
    const d = (info && info.department) || {};
    const closed = waiting && d.open === false;
    const wait = $('closed-wait');
    if (closed) {
      const next = typeof d.next_opening === 'string' && !Number.isNaN(Date.parse(d.next_opening)) ? d.next_opening : '';
      $('closed-wait-text').textContent = next ? t('chat.waitClosedNext', { when: formatWhen(next) }) : t('chat.waitClosed');
      if (next) setTimer('reopen', refreshInfo, Date.parse(next) - Date.now() + 2000);
    }
    show(wait, closed);
    if (waiting && !closed && Number.isInteger(position) && position > 0) {
      q.textContent = position === 1 ? t('chat.queueNext') : t('chat.queue', { position });
      show(q, true);
    } else {
      q.textContent = '';
      show(q, false);
    }
  }

  // refreshInfo asks again whether the department is open: at the next
  // opening time, the closed notice gives way to the queue position.
  async function refreshInfo() {
    if (!c || !c.open || c.status !== 'queued') return;
    const id = (c.department && c.department.id) || (info && info.department && info.department.id);
    if (!id) return;
    try {
      const next = await api.info({ department: id });
      if (next && next.department) info = { ...info, department: next.department };
    } catch {
      setTimer('reopen', refreshInfo, 60000);
      return;
    }
    renderQueue(c.queue_position);
  }

  function applyCase(next) {
    const wasOpen = c ? c.open : true;
    c = { ...c, ...next };
    $('case-reference').textContent = c.reference || '';
    $('case-status').textContent = statusText(c.status);
    renderQueue(c.queue_position);
    if (!c.open) {
      showClosed(wasOpen);
      onClosed();
    }
  }

  function showClosed(justClosed) {
    stopTyping();
    clearTimer('idle');
    idleDialog.close();
    closeDialog.close();
    show(composer, false);
    show($('close-case'), false);
    typingIndicator.textContent = '';
    let key = `closed.${c.status}`;
    if (closedByYou) key = 'closed.byYou';
    else if (gone) key = 'chat.sessionGone';
    const text = t(key);
    $('closed-text').textContent = text === key ? t('closed.generic') : text;
    // Without a session the transcript cannot be fetched any more, and
    // there is no session left to end.
    const readable = !gone && !closedByYou && c.status !== 'purged';
    show($('transcript-link'), readable);
    show($('closed-transcript-hint'), readable);
    show($('end-session'), readable);
    show($('end-session-hint'), readable);
    show($('closed-notice'), true);
    if (outbox) outbox.stop(false);
    if (justClosed && (composer.contains(document.activeElement) || document.activeElement === document.body)) {
      $('closed-notice').focus();
    }
  }

  // ---- the stream ----------------------------------------------------------

  function accept(seq) {
    if (!Number.isInteger(seq) || seq <= lastSeq) return false;
    lastSeq = seq;
    return true;
  }

  function parse(ev) {
    try {
      return JSON.parse(ev.data);
    } catch {
      return null;
    }
  }

  const handlers = {
    message(d) {
      if (!accept(d.seq)) return;
      if (d.from === 'citizen' && d.txn_id) {
        outbox.delivered(d.txn_id);
        const p = pendingLi(d.txn_id);
        if (p) p.remove();
      }
      insert(messageNode(d));
      if (d.from === 'staff') {
        lastStaffSeq = d.seq;
        typingIndicator.textContent = '';
        scheduleRead();
      }
    },
    // An earlier message changed (staff edited or removed it): show it as
    // it is now, in its place.
    update(d) {
      if (!accept(d.seq)) return;
      const m = d.message;
      if (!m || !Number.isInteger(m.seq)) return;
      const old = [...list.querySelectorAll('li.message')].find((li) => Number(li.dataset.seq) === m.seq);
      if (old) old.replaceWith(messageNode(m));
    },
    status(d) {
      if (!accept(d.seq)) return;
      // Every stored change shows, live and after a reload alike.
      insert(eventNode(d.seq, t('chat.statusChanged', { status: statusText(d.status) })));
      applyCase({ status: d.status, open: !!d.open, queue_position: d.status === 'queued' ? c.queue_position : undefined });
    },
    staff_joined(d) {
      if (!accept(d.seq)) return;
      if (typeof d.team === 'string' && d.team) team = d.team;
      insert(eventNode(d.seq, t('chat.staffJoined', { team: team || senderName('staff') })));
    },
    // A step of the case (resolved, transferred, …) or of the citizen's
    // application, in the page's language. The log announces it; the
    // header keeps the application's latest status (the stream replays
    // every step in order, after a reload too).
    notice(d) {
      if (!accept(d.seq)) return;
      const text = noticeText(d.notice, { team: typeof d.team === 'string' ? d.team : '' });
      if (text) insert(eventNode(d.seq, text));
      const submission = submissionOf(d.notice);
      if (submission) {
        $('case-submission').textContent = t(`submission.${submission}`);
        show($('case-submission-row'), true);
      }
    },
    typing(d) {
      if (d.typing && c.open) {
        typingIndicator.textContent = team ? t('chat.typing', { team }) : t('chat.typingTeam');
        setTimer('staffTyping', () => { typingIndicator.textContent = ''; }, STAFF_TYPING_TIMEOUT_MS);
      } else {
        typingIndicator.textContent = '';
        clearTimer('staffTyping');
      }
    },
    read(d) {
      if (Number.isInteger(d.seq) && d.seq > readSeq) {
        readSeq = d.seq;
        markAllRead();
      }
    },
    queue(d) {
      c.queue_position = d.position;
      renderQueue(d.position);
    },
    video() {
      onVideo();
    },
    idle(d) {
      const at = new Date(d.abandon_at);
      if (!Number.isNaN(at.getTime())) scheduleIdle(at);
    },
  };

  function setConnection(text) {
    connection.textContent = text;
    connection.classList.toggle('visible', !!text);
  }

  function connect() {
    if (es) es.close();
    // A fresh EventSource gets ?after= so a manual reconnect resumes; the
    // browser's own reconnects send Last-Event-ID by themselves.
    const after = lastEventId || (lastSeq ? String(lastSeq) : '');
    es = new EventSource(api.eventsUrl(c.id, after));
    es.onopen = () => {
      reconnectAttempt = 0;
      if (disconnected) {
        disconnected = false;
        setConnection(t('chat.reconnected'));
        setTimer('connectionNote', () => setConnection(''), 4000);
      }
    };
    es.onerror = () => {
      if (gone) return;
      disconnected = true;
      clearTimer('connectionNote');
      setConnection(t('chat.disconnected'));
      checkSession();
      if (es.readyState === EventSource.CLOSED) {
        // The server answered with an error instead of a stream; the browser
        // gives up, so we reconnect ourselves.
        setTimer('reconnect', connect, backoff(null, reconnectAttempt++, 30000));
      }
    };
    for (const [type, fn] of Object.entries(handlers)) {
      es.addEventListener(type, (ev) => {
        const d = parse(ev);
        if (!d || !c) return;
        if (ev.lastEventId) lastEventId = ev.lastEventId;
        fn(d);
      });
    }
  }

  // checkSession finds out whether a broken stream means the session is
  // gone (then no reconnect will ever work) or only the network.
  async function checkSession() {
    const now = Date.now();
    if (now - lastSessionCheck < SESSION_CHECK_MS) return;
    lastSessionCheck = now;
    try {
      const s = await api.getSession();
      if (!s.case || s.case.id !== c.id) sessionGone();
      else applyCase(s.case);
    } catch (err) {
      if (err.status === 401) sessionGone();
    }
  }

  function sessionGone() {
    if (gone) return;
    gone = true;
    if (es) es.close();
    clearTimer('reconnect');
    setConnection('');
    c.open = false;
    showClosed(true);
  }

  // ---- typing, read, idle --------------------------------------------------

  function sendTyping(on) {
    typingOn = on;
    api.typing(c.id, on).catch(() => {});
  }

  function onComposerInput() {
    updateCounter();
    if (!input.value) {
      stopTyping();
      return;
    }
    const now = Date.now();
    if (!typingOn || now - typingSentAt >= TYPING_REPEAT_MS) {
      typingSentAt = now;
      sendTyping(true);
    }
    setTimer('typingIdle', stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimer('typingIdle');
    if (typingOn && c) sendTyping(false);
    typingSentAt = 0;
  }

  function scheduleRead() {
    if (gone || document.visibilityState !== 'visible' || lastStaffSeq <= lastReadSent || timers.read) return;
    setTimer('read', async () => {
      const seq = lastStaffSeq;
      try {
        await api.read(c.id, seq);
        lastReadSent = Math.max(lastReadSent, seq);
      } catch { /* the next message or visibility change tries again */ }
    }, READ_DELAY_MS);
  }

  function scheduleIdle(at) {
    abandonAt = at;
    clearTimer('idle');
    if (!c.open) return;
    setTimer('idle', showIdle, at.getTime() - warnBeforeMs() - Date.now());
  }

  function showIdle() {
    if (!c.open || !abandonAt) return;
    $('idle-dialog-text').textContent = t('dialog.idleText', { when: formatWhen(abandonAt) });
    idleDialog.open($('still-here'));
  }

  async function stillHere() {
    try {
      const next = await withRetry(() => api.alive(c.id), { maxAttempts: 4 });
      idleDialog.close();
      if (next) applyCase(next);
    } catch (err) {
      idleDialog.close();
      handleError(err);
    }
  }

  // ---- sending ---------------------------------------------------------------

  function updateCounter() {
    const count = [...input.value].length;
    const max = maxLength();
    const near = count > max * 0.8;
    show(counter, near);
    counter.textContent = near
      ? (count > max ? t('entry.counterOver', { count, max, over: count - max }) : t('entry.counter', { count, max }))
      : '';
    counter.classList.toggle('over', count > max);
  }

  function handleError(err, item) {
    if (err && err.status === 401) {
      sessionGone();
      return;
    }
    const code = (err && err.code) || 'unknown';
    showError(errorText(code, {
      max: code === 'too_large' ? formatBytes(maxBytes()) : maxLength(),
      types: typesText(),
      seconds: (err && err.retryAfter) || 60,
    }));
    if (code === 'case_closed') {
      api.getCase(c.id).then(applyCase, () => applyCase({ open: false }));
    }
    if (item && item.kind === 'text' && c.open) {
      // Give the text back so nothing the citizen wrote is lost.
      input.value = input.value ? `${item.body}\n${input.value}` : item.body;
      updateCounter();
    }
  }

  const outboxHooks = {
    pending(item) {
      appendPending(pendingNode(item));
    },
    retrying(item, ms) {
      const li = pendingLi(item.txn);
      const s = li && li.querySelector('.state');
      if (s) s.textContent = t('chat.pendingRetry', { seconds: Math.ceil(ms / 1000) });
    },
    sent(item) {
      const li = pendingLi(item.txn);
      const s = li && li.querySelector('.state');
      if (s) s.textContent = t('chat.pending');
    },
    failed(item, err) {
      const li = pendingLi(item.txn);
      if (li) li.remove();
      handleError(err, item);
    },
  };

  function onSubmit(ev) {
    ev.preventDefault();
    if (!c || !c.open) return;
    const text = input.value;
    if (!text.trim()) {
      input.focus();
      return;
    }
    if ([...text].length > maxLength()) {
      showError(errorText('too_long', { max: maxLength() }));
      input.focus();
      return;
    }
    clearError();
    stopTyping();
    outbox.sendText(text);
    input.value = '';
    updateCounter();
    input.focus();
  }

  function onKeydown(ev) {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.ctrlKey && !ev.altKey && !ev.metaKey && !ev.isComposing) {
      ev.preventDefault();
      composer.requestSubmit();
    }
  }

  function onFile() {
    const file = attachInput.files && attachInput.files[0];
    attachInput.value = '';
    if (!file || !c || !c.open) return;
    clearError();
    if (!allowedTypes().includes(file.type)) {
      showError(t('file.badType', { name: file.name, types: typesText() }));
      return;
    }
    if (file.size > maxBytes()) {
      showError(t('file.tooLarge', { name: file.name, size: formatBytes(file.size), max: formatBytes(maxBytes()) }));
      return;
    }
    outbox.sendFile(file);
  }

  async function confirmClose() {
    // Set before the request: the stream's "closed" status may arrive
    // before the answer, and must already read as the citizen's own close.
    closedByYou = true;
    try {
      const next = await withRetry(() => api.close(c.id), { maxAttempts: 4 });
      // Closing ended the session as well: no stream, no download any more.
      gone = true;
      if (es) es.close();
      clearTimer('reconnect');
      clearTimer('read');
      setConnection('');
      closeDialog.close(false);
      applyCase(next && typeof next.open === 'boolean' ? next : { status: 'closed', open: false });
      $('closed-notice').focus();
    } catch (err) {
      closedByYou = false;
      closeDialog.close();
      handleError(err);
    }
  }

  composer.addEventListener('submit', onSubmit);
  input.addEventListener('keydown', onKeydown);
  input.addEventListener('input', onComposerInput);
  input.addEventListener('blur', () => { if (!input.value) stopTyping(); });
  attachInput.addEventListener('change', onFile);
  $('close-case').addEventListener('click', () => closeDialog.open($('cancel-close')));
  $('cancel-close').addEventListener('click', () => closeDialog.close());
  $('confirm-close').addEventListener('click', confirmClose);
  $('still-here').addEventListener('click', stillHere);
  // Escape on the idle warning is an answer too: the citizen is there.
  idleDialog.onCancel(stillHere);
  $('new-case').addEventListener('click', () => onNewCase(c));
  $('end-session').addEventListener('click', () => onEndSession(c));
  document.addEventListener('visibilitychange', scheduleRead);

  return {
    start(caseObj, newInfo, { focus = false } = {}) {
      info = newInfo;
      c = null;
      gone = false;
      closedByYou = false;
      lastSeq = 0;
      lastEventId = '';
      lastStaffSeq = 0;
      lastReadSent = 0;
      readSeq = 0;
      team = '';
      disconnected = false;
      list.replaceChildren();
      typingIndicator.textContent = '';
      setConnection('');
      show(composer, true);
      show($('close-case'), true);
      show($('closed-notice'), false);
      show($('transcript-link'), true);
      show($('end-session'), false);
      show($('end-session-hint'), false);
      input.value = '';
      updateCounter();

      const types = allowedTypes();
      attachInput.setAttribute('accept', types.join(','));
      $('attach-hint').textContent = t('chat.attachHint', { types: typesText(), size: formatBytes(maxBytes()) });
      show($('attach-wrap'), maxBytes() > 0);
      show($('attach-hint'), maxBytes() > 0);

      $('transcript-link').href = api.transcriptUrl(caseObj.id, getLang());
      $('close-dialog-transcript').href = $('transcript-link').href;
      applyCase(caseObj);
      outbox = createOutbox(caseObj.id, outboxHooks);
      if (c.open) outbox.restore();
      connect();
      if (focus && c.open) input.focus();
    },
    stop() {
      if (es) es.close();
      es = null;
      for (const name of Object.keys(timers)) clearTimer(name);
      if (outbox) outbox.stop(true);
      idleDialog.close();
      closeDialog.close();
    },
    forget(caseId) {
      forgetOutbox(caseId);
    },
    // clear removes everything of the case from the page, so nothing of
    // the conversation is left for the next person at this computer.
    clear() {
      c = null;
      list.replaceChildren();
      for (const id of ['case-reference', 'case-status', 'case-submission', 'closed-text', 'queue-position', 'closed-wait-text']) {
        $(id).textContent = '';
      }
      show($('case-submission-row'), false);
      show($('queue-position'), false);
      show($('closed-wait'), false);
      show($('closed-notice'), false);
      typingIndicator.textContent = '';
      setConnection('');
      input.value = '';
      for (const id of ['transcript-link', 'close-dialog-transcript']) $(id).setAttribute('href', '#');
    },
  };
}
