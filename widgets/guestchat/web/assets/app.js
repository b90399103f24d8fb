// The citizens' guest chat page: picks the language, resumes a case or shows
// the entry form, and switches between the two views.

import { api, setCsrf, withRetry, waker, ApiError } from './api.js';
import { setLang, t, errorText } from './i18n.js';
import { $, show, applyTexts, placeError, showError, clearError } from './kit/dom.js';
import { createEntry } from './entry.js';
import { createChat } from './chat.js';
import { createVideo } from './video.js';

const body = document.body;
setLang(body.dataset.lang);

const page = {
  department: body.dataset.department || '',
  service: body.dataset.service || '',
  authority: body.dataset.authority || '',
  // On /hilfe: {context, origin} for POST cases; context '' marks the
  // case unverified (docs/ozg.md).
  handover: null,
};
const handoverMode = body.dataset.handover === '1';

function setupLangSwitch() {
  const link = $('lang-switch');
  const other = body.dataset.lang === 'en' ? 'de' : 'en';
  const u = new URL(location.href);
  u.searchParams.set('lang', other);
  // On /hilfe the context stays in the fragment, so the page in the
  // other language shows the same hand-over.
  link.href = u.pathname + u.search + (handoverMode ? location.hash : '');
  link.lang = other;
  link.hreflang = other;
  // The visible name is the accessible name (WCAG 2.5.3); lang="en" on
  // the link makes screen readers say "English" in English.
  link.textContent = t('lang.switch');
  link.closest('nav').setAttribute('aria-label', t('lang.nav'));
}

function setHeading(departmentName, authorityName) {
  if (authorityName) $('authority-name').textContent = authorityName;
  $('page-heading').textContent = departmentName
    ? t('page.heading', { department: departmentName })
    : t('page.headingNoDept');
  document.title = departmentName
    ? t('page.title', { department: departmentName, authority: authorityName || page.authority })
    : t('page.headingNoDept');
}

function bootStatus(text) {
  const s = $('boot-status');
  s.textContent = text;
  show(s, !!text);
}

function showView(name) {
  show($('entry-session-ended'), false);
  show($('entry'), name === 'entry');
  show($('chat'), name === 'chat');
  clearError();
  placeError($(name === 'entry' ? 'entry-error-slot' : 'chat-error-slot'));
}

function loadInfo(params) {
  return withRetry(() => api.info(params), {
    maxAttempts: 6,
    onRetry: (err) => bootStatus(errorText(err.code)),
  });
}

const entry = createEntry({ onCase: (c) => openChat(c, { focus: true }) });
const video = createVideo();
const chat = createChat({ onNewCase: newCase, onEndSession: endSession, onClosed: () => video.closed(), onVideo: () => video.changed() });

// openEntry shows the entry form; sessionEnded says above it that the old
// conversation is gone from this browser.
async function openEntry({ focus = false, sessionEnded = false } = {}) {
  let info;
  try {
    info = await loadInfo(page.department ? { department: page.department } : { service: page.service });
  } catch (err) {
    bootStatus('');
    placeError($('main'));
    showError(errorText(err.code || 'unknown'));
    return;
  }
  bootStatus('');
  setHeading(info.department && info.department.name, info.authority && info.authority.name);
  showView('entry');
  entry.render(info, page);
  if (sessionEnded) {
    show($('entry-session-ended'), true);
    $('entry-session-ended').focus();
  } else if (focus) entry.focus();
}

async function openChat(c, { focus = false } = {}) {
  // The limits and the idle warning come from the case's department (it
  // may have been transferred since the page was opened).
  let info = null;
  try {
    info = await loadInfo({ department: (c.department && c.department.id) || page.department });
  } catch {
    info = null; // Defaults from the contract apply.
  }
  bootStatus('');
  setHeading((c.department && c.department.name) || (info && info.department && info.department.name),
    info && info.authority && info.authority.name);
  showView('chat');
  chat.start(c, info, { focus });
  video.start(c, info);
}

// The hand-over (docs/ozg.md): the online service's signed context is in
// the fragment (#ctx=…), which never reaches a server log; the page posts
// it with the origin it was opened from.
function readContext() {
  const m = /^#(?:.*&)?ctx=([A-Za-z0-9_.-]+)/.exec(location.hash);
  return m ? m[1] : '';
}

function referrerOrigin() {
  try {
    const o = document.referrer ? new URL(document.referrer).origin : '';
    return o === location.origin || o === 'null' ? '' : o;
  } catch {
    return '';
  }
}

// useLang switches the page to the language the online service reported,
// unless the citizen chose one with ?lang=.
function useLang(lang) {
  if (new URLSearchParams(location.search).has('lang') || (lang !== 'de' && lang !== 'en')) return;
  if (lang === body.dataset.lang) return;
  body.dataset.lang = lang;
  document.documentElement.lang = lang;
  setLang(lang);
  applyTexts();
  setupLangSwitch();
}

function showHandOver(h) {
  $('handover-service').textContent = t('handover.service', { service: h.service.name });
  const step = $('handover-step');
  step.textContent = h.step ? t('handover.step', { step: h.step }) : '';
  show(step, !!h.step);
  show($('handover'), true);
}

function hideHandOver() {
  show($('handover'), false);
}

function showRefused(code) {
  bootStatus('');
  show($('entry'), false);
  show($('chat'), false);
  $('page-heading').textContent = t('page.headingNoDept');
  document.title = t('handover.refusedHeading');
  $('handover-refused-text').textContent = errorText(code);
  const section = $('handover-refused');
  show(section, true);
  section.focus();
}

// startHandOver verifies the context for this session. It returns the
// session, or null once it has shown the refusal.
async function startHandOver(session) {
  const context = readContext();
  if (!context) {
    page.handover = { context: '' };
    return session;
  }
  bootStatus(t('handover.checking'));
  const s = await withRetry(() => api.createSession(false), { maxAttempts: 6 });
  setCsrf(s.csrf_token);
  const origin = referrerOrigin();
  try {
    const h = await withRetry(() => api.handover(context, origin), { maxAttempts: 6 });
    page.handover = { context, origin };
    page.department = h.department.id;
    useLang(h.lang);
    showHandOver(h);
  } catch (err) {
    if (!(err instanceof ApiError) || !String(err.code).startsWith('context_')) throw err;
    // A case this session already has stays reachable, even once its
    // context has expired.
    if (s.case) return s;
    showRefused(err.code);
    return null;
  }
  return s;
}

async function newCase(oldCase) {
  clearError();
  if (handoverMode) {
    // The context belongs to the old session's case: the next question
    // is a plain one.
    page.handover = { context: '' };
    hideHandOver();
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  }
  try {
    const s = await withRetry(() => api.createSession(true), { maxAttempts: 6 });
    setCsrf(s.csrf_token);
    chat.stop();
    chat.clear();
    if (oldCase) chat.forget(oldCase.id);
    if (s.case && s.case.open) {
      await openChat(s.case, { focus: true });
      return;
    }
    await openEntry({ focus: true });
  } catch (err) {
    showError(errorText(err.code || 'unknown'));
  }
}

// endSession is "Sitzung beenden": the session ends, and nothing of the
// conversation stays on the page.
async function endSession(oldCase) {
  clearError();
  try {
    await withRetry(() => api.endSession(), { maxAttempts: 4 });
  } catch (err) {
    // 401: the session had already ended; the page forgets it all the same.
    if (!(err instanceof ApiError) || err.status !== 401) {
      showError(errorText(err.code || 'unknown'));
      return;
    }
  }
  setCsrf('');
  chat.stop();
  chat.clear();
  if (oldCase) chat.forget(oldCase.id);
  await openEntry({ sessionEnded: true });
}

async function boot() {
  applyTexts();
  setupLangSwitch();
  bootStatus(t('page.loading'));
  window.addEventListener('online', () => waker.wake());

  let session = null;
  try {
    session = await withRetry(() => api.getSession(), {
      maxAttempts: 6,
      onRetry: (err) => bootStatus(errorText(err.code)),
    });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) {
      bootStatus('');
      placeError($('main'));
      showError(t('error.boot'));
      return;
    }
  }
  if (session) setCsrf(session.csrf_token);
  if (handoverMode) {
    try {
      session = await startHandOver(session);
    } catch {
      bootStatus('');
      placeError($('main'));
      showError(t('error.boot'));
      return;
    }
    if (!session) return;
  }
  if (session && session.case) await openChat(session.case, { focus: session.case.open });
  else await openEntry();
}

boot();
