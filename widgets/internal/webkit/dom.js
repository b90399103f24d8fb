// Small DOM helpers for the pages of rathaus's widgets. Data from the
// server only ever goes into textContent or attributes, never into markup.

import { t } from './i18n.js';

export const $ = (id) => document.getElementById(id);

// el builds an element: el('p', {class: 'x', text: 'y', attrs: {…}, data: {…}}, child…)
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.attrs) {
    for (const [k, v] of Object.entries(props.attrs)) {
      if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  if (props.data) {
    for (const [k, v] of Object.entries(props.data)) {
      if (v !== undefined && v !== null) node.dataset[k] = String(v);
    }
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

// applyTexts fills every [data-i18n] element with its text.
export function applyTexts(root = document) {
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
}

// A page has a single error region (#error, role="alert"); it moves next
// to the form in use, so the message appears where the user looks.
export function placeError(slot) {
  const box = $('error');
  if (slot && box.parentNode !== slot) slot.append(box);
}

let errorSerial = 0;

export function showError(text) {
  const box = $('error');
  const serial = ++errorSerial;
  // Empty first so the same text twice is announced twice.
  box.textContent = '';
  box.classList.add('visible');
  setTimeout(() => {
    if (serial === errorSerial) box.textContent = text;
  }, 50);
}

export function clearError() {
  errorSerial++;
  const box = $('error');
  box.textContent = '';
  box.classList.remove('visible');
}

// safeUrl returns the URL if it points at this origin over http(s) (the
// only place files come from), otherwise null.
export function safeUrl(raw) {
  try {
    const u = new URL(raw, location.origin);
    if (u.origin !== location.origin || (u.protocol !== 'https:' && u.protocol !== 'http:')) return null;
    return u.pathname + u.search;
  } catch {
    return null;
  }
}
