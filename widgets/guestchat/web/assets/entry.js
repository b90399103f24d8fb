// The entry view: department, opening status, privacy notice, and the form
// that opens a case (session → challenge → proof of work → POST cases).

import { api, setCsrf, withRetry, newTxnId } from './api.js';
import { t, formatWhen, errorText } from './i18n.js';
import { $, show, showError, clearError, safeUrl } from './kit/dom.js';
import { estimateProgress, createSolver } from './pow.js';

const TXN_KEY = 'rathaus.guest.caseTxn';

// The txn_id of the case being opened is created once and kept, so a retry
// after a network error (even after a reload) is recognised by the server.
function caseTxnId() {
  let id = null;
  try {
    id = sessionStorage.getItem(TXN_KEY);
  } catch { /* storage may be blocked */ }
  if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
    id = newTxnId();
    try {
      sessionStorage.setItem(TXN_KEY, id);
    } catch { /* fine: in-memory only */ }
  }
  return id;
}

function forgetCaseTxnId() {
  try {
    sessionStorage.removeItem(TXN_KEY);
  } catch { /* ignore */ }
}

// solvePow runs the solver in a module worker, or in slices on the main
// thread where module workers are missing. onProgress(tried) is called
// now and then.
function solvePow(token, difficulty, onProgress) {
  return new Promise((resolve, reject) => {
    let worker;
    const fallback = async () => {
      try {
        const solver = createSolver(token, difficulty);
        for (;;) {
          const n = solver.step(20000);
          if (n !== null) return resolve(n);
          onProgress(solver.tried);
          await new Promise((r) => setTimeout(r, 0));
        }
      } catch (err) {
        reject(err);
      }
    };
    try {
      worker = new Worker(new URL('./pow.js', import.meta.url), { type: 'module' });
    } catch {
      fallback();
      return;
    }
    worker.onmessage = (ev) => {
      const m = ev.data || {};
      if (m.type === 'progress') onProgress(m.tried);
      else if (m.type === 'done') {
        worker.terminate();
        resolve(m.nonce);
      } else if (m.type === 'error') {
        worker.terminate();
        reject(new Error(m.message));
      }
    };
    worker.onerror = (ev) => {
      // A browser without module workers fails here; solve on the page.
      ev.preventDefault();
      worker.terminate();
      fallback();
    };
    worker.postMessage({ token, difficulty });
  });
}

export function createEntry({ onCase }) {
  const form = $('entry-form');
  const nameInput = $('name');
  const question = $('question');
  const counter = $('question-counter');
  const submit = $('submit');
  const powStatus = $('pow-status');
  const powProgress = $('pow-progress');
  let info = null;
  let ctx = {};
  let busy = false;

  const maxLength = () => (info && info.limits && info.limits.max_message_length) || 4000;

  function updateCounter() {
    const count = [...question.value].length;
    const max = maxLength();
    const over = count - max;
    counter.textContent = over > 0 ? t('entry.counterOver', { count, max, over }) : t('entry.counter', { count, max });
    counter.classList.toggle('over', over > 0);
  }

  function render(newInfo, newCtx) {
    info = newInfo;
    ctx = newCtx;
    const d = info.department || {};
    const a = info.authority || {};
    const desc = $('dept-description');
    desc.textContent = d.description || '';
    show(desc, !!d.description);

    const openNotice = $('dept-open-notice');
    const closedNotice = $('dept-closed-notice');
    if (d.open) {
      openNotice.textContent = t('entry.open');
      show(openNotice, true);
      show(closedNotice, false);
    } else {
      const valid = typeof d.next_opening === 'string' && !Number.isNaN(Date.parse(d.next_opening));
      $('dept-closed-text').textContent = valid
        ? t('entry.closedNext', { when: formatWhen(d.next_opening) })
        : t('entry.closed');
      show(openNotice, false);
      show(closedNotice, true);
    }
    const hours = $('office-hours');
    hours.textContent = d.office_hours ? t('entry.officeHours', { hours: d.office_hours }) : '';
    show(hours, !!d.office_hours);

    const privacy = $('privacy-link');
    const pUrl = a.privacy_url && /^https?:/i.test(a.privacy_url) ? a.privacy_url : null;
    privacy.textContent = a.name ? t('entry.privacyLink', { authority: a.name }) : t('entry.privacyLinkShort');
    // Never a link that goes nowhere: without a URL (only possible with
    // the config's opt-out for tests) there is no link at all.
    if (pUrl) privacy.href = pUrl;
    else privacy.removeAttribute('href');
    show(privacy, !!pUrl);
    const contact = $('contact-link');
    const cUrl = a.contact_url && /^https?:/i.test(a.contact_url) ? a.contact_url : null;
    if (cUrl) contact.href = cUrl;
    show(contact, !!cUrl);
    show(privacy.parentElement, !!(pUrl || cUrl));

    question.setAttribute('aria-invalid', 'false');
    updateCounter();
  }

  function setBusy(on) {
    busy = on;
    // aria-disabled keeps the button focusable, so focus is not lost.
    submit.setAttribute('aria-disabled', on ? 'true' : 'false');
    form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  function status(text) {
    powStatus.textContent = text;
  }

  function retryNote(err) {
    status(err.code === 'rate_limited' && err.retryAfter
      ? errorText('rate_limited', { seconds: err.retryAfter })
      : errorText(err.code === 'network' ? 'network' : 'unavailable'));
  }

  async function openCase() {
    const s = await withRetry(() => api.createSession(false), { onRetry: retryNote, maxAttempts: 6 });
    setCsrf(s.csrf_token);
    if (s.case) return s.case;
    const txnId = caseTxnId();
    for (let round = 0; ; round++) {
      status(round === 0 ? t('pow.start') : t('pow.retry'));
      const ch = await withRetry(() => api.challenge(), { onRetry: retryNote, maxAttempts: 6 });
      show(powProgress, true);
      powProgress.value = 0;
      let lastAnnounce = Date.now();
      const nonce = await solvePow(ch.token, ch.difficulty, (tried) => {
        const percent = Math.floor(estimateProgress(tried, ch.difficulty) * 100);
        powProgress.value = percent;
        // Announce at most every 2 s so screen readers are not flooded.
        if (Date.now() - lastAnnounce >= 2000) {
          lastAnnounce = Date.now();
          status(t('pow.progress', { percent }));
        }
      });
      powProgress.value = 100;
      status(t('pow.done'));
      const body = {
        department: info.department.id,
        question: question.value,
        txn_id: txnId,
        pow: { token: ch.token, nonce },
      };
      if (ctx.service) body.service = ctx.service;
      if (ctx.handover) body.handover = ctx.handover;
      if (nameInput.value.trim()) body.name = nameInput.value.trim();
      try {
        return await withRetry(() => api.createCase(body), { onRetry: retryNote, maxAttempts: 8 });
      } catch (err) {
        const powProblem = ['pow_expired', 'pow_replayed', 'pow_invalid'].includes(err.code);
        if (powProblem && round < 2) continue;
        throw err;
      }
    }
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    if (busy) return;
    clearError();
    const count = [...question.value].length;
    if (!question.value.trim()) {
      question.setAttribute('aria-invalid', 'true');
      showError(t('error.questionEmpty'));
      question.focus();
      return;
    }
    if (count > maxLength()) {
      question.setAttribute('aria-invalid', 'true');
      showError(t('error.questionTooLong', { max: maxLength() }));
      question.focus();
      return;
    }
    question.setAttribute('aria-invalid', 'false');
    setBusy(true);
    try {
      const c = await openCase();
      forgetCaseTxnId();
      status('');
      form.reset();
      updateCounter();
      onCase(c);
    } catch (err) {
      status('');
      const code = err && err.code;
      showError(code ? errorText(code, { max: maxLength(), seconds: err.retryAfter || 60 }) : t('error.noWorker'));
    } finally {
      show(powProgress, false);
      setBusy(false);
    }
  }

  question.addEventListener('input', () => {
    updateCounter();
    if (question.getAttribute('aria-invalid') === 'true' && question.value.trim()) {
      question.setAttribute('aria-invalid', 'false');
    }
  });
  form.addEventListener('submit', onSubmit);

  return {
    render,
    focus() {
      question.focus();
    },
  };
}
