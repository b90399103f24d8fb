// The ticket widget: signs in through the widget API's OpenID token, then
// shows the OZG ticket of the case room with its history and the staff's
// actions. Everything the server sends goes into textContent only.
import { $, el, show, applyTexts, showError, clearError } from './kit/dom.js';
import { addTexts, setLang, t, formatTime } from './kit/i18n.js';
import { ApiError } from './kit/api.js';
import { createWidgetSession, errorText, refuse as refuseView } from './kit/widgetsession.js';
import { texts } from './texts.js';

const ws = createWidgetSession();
const act = ws.act;
const call = ws.request;

addTexts(texts);
setLang(document.documentElement.lang);
applyTexts();

let current = null;

const refuse = (err) => refuseView(err, 'ticket');

function statusName(status) {
  return t(`status.${status}`);
}

function fact(label, value) {
  if (!value) return [];
  return [el('dt', { text: t(label) }), el('dd', { text: value })];
}

function render(data) {
  current = data;
  const s = data.summary;
  const tk = s.ticket || {};
  $('heading').textContent = `${t('title')} ${s.reference}`;
  const sub = s.submission_status ? t(`submission.${s.submission_status}`) : '';
  $('summary').replaceChildren(
    ...fact('field.reference', s.reference),
    ...fact('field.department', s.department),
    ...fact('field.case_status', statusName(s.case_status)),
    ...fact('field.service', tk.verified ? tk.service && tk.service.name : t('field.unverified')),
    ...fact('field.leika', tk.leika),
    ...fact('field.step', tk.step),
    ...fact('field.error_code', tk.error_code),
    ...fact('field.trust', tk.trust),
    ...fact('field.submission', tk.fit_connect && tk.fit_connect.submission),
    ...fact('field.submission_status', sub.startsWith('submission.') ? s.submission_status : sub),
    ...fact('field.external_ref', s.external_ref),
  );
  // The case's course and its submission's, in one list by time.
  const steps = [
    ...s.history.map((h) => ({ at: h.at, text: (when) => {
      let actor = h.actor;
      if (actor === 'citizen') actor = t('actor.citizen');
      else if (!actor || actor === 'system') actor = t('actor.system');
      return t('history.entry', { when, status: statusName(h.to), actor });
    } })),
    ...(s.submission_history || []).map((st) => ({ at: st.at, text: (when) => {
      const name = t(`submission.${st.status}`);
      return t('history.submission', { when, status: name.startsWith('submission.') ? st.status : name });
    } })),
  ].sort((a, b) => a.at - b.at);
  $('history').replaceChildren(...steps.map((step) => {
    const when = new Date(step.at);
    return el('li', {}, el('time', { attrs: { datetime: when.toISOString() }, text: step.text(formatTime(when)) }));
  }));
  const open = s.case_status === 'active' || s.case_status === 'awaiting_citizen';
  $('status-awaiting').disabled = s.case_status !== 'active';
  $('status-resolved').disabled = !open;
  $('doc-submit').disabled = !open;
  const select = $('doc-select');
  if (!select.options.length) {
    const en = document.documentElement.lang === 'en';
    select.replaceChildren(...data.templates.map((tpl) => el('option', { attrs: { value: tpl.id }, text: en ? tpl.label_en : tpl.label_de })));
  }
  if (!$('ref-input').value && s.external_ref) $('ref-input').value = s.external_ref;
}

function announce(text) {
  const done = $('done');
  done.textContent = text;
  show(done, true);
}

async function run(fn) {
  clearError();
  show($('done'), false);
  try {
    await fn();
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'not_member' || err.code === 'forbidden')) {
      refuse(err);
      return;
    }
    showError(errorText(err));
  }
}

function wire() {
  $('status-awaiting').addEventListener('click', () => run(async () => {
    render(await act('POST', 'status', { status: 'awaiting_citizen' }));
    announce(t('done.status', { status: statusName(current.summary.case_status) }));
  }));
  $('status-resolved').addEventListener('click', () => run(async () => {
    render(await act('POST', 'status', { status: 'resolved' }));
    announce(t('done.status', { status: statusName(current.summary.case_status) }));
  }));
  $('ref-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $('ref-input');
    const ref = input.value.trim();
    if (!/^[A-Za-z0-9\-_./:#]{1,64}$/.test(ref)) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      showError(t('error.bad_external_ref'));
      return;
    }
    input.removeAttribute('aria-invalid');
    run(async () => {
      render(await act('POST', 'external-ref', { external_ref: ref }));
      announce(t('done.ref', { ref }));
    });
  });
  $('doc-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = $('doc-select').value;
    run(async () => {
      await act('POST', 'document-request', { template: id });
      const tpl = current.templates.find((x) => x.id === id);
      const label = tpl ? (document.documentElement.lang === 'en' ? tpl.label_en : tpl.label_de) : id;
      announce(t('done.doc', { label }));
      render(await act('GET', 'ticket'));
    });
  });
}

async function main() {
  try {
    await ws.start();
    $('progress').textContent = t('loading');
    const data = await call('GET', 'ticket');
    render(data);
  } catch (err) {
    refuse(err);
    return;
  }
  wire();
  show($('progress'), false);
  show($('ticket'), true);
  document.body.dataset.state = 'ready';
}

main();
