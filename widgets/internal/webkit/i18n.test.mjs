import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  kitCatalogs, addTexts, t, setLang, getLang, formatWhen, formatBytes, typeLabel,
} from './i18n.js';

afterEach(() => setLang('de'));

test('the kit has the same keys in German and English', () => {
  assert.deepEqual(Object.keys(kitCatalogs.en).sort(), Object.keys(kitCatalogs.de).sort());
});

test('t fills placeholders and falls back to German, then to the key', () => {
  addTexts({
    de: { 'test.greeting': 'Guten Tag, {name}!', 'test.onlyGerman': 'nur Deutsch' },
    en: { 'test.greeting': 'Good day, {name}!' },
  });
  assert.equal(t('test.greeting', { name: 'Maria' }), 'Guten Tag, Maria!');
  setLang('en');
  assert.equal(getLang(), 'en');
  assert.equal(t('test.greeting', { name: 'Maria' }), 'Good day, Maria!');
  assert.equal(t('test.greeting'), 'Good day, {name}!', 'no params: placeholders stay');
  assert.equal(t('test.greeting', {}), 'Good day, {name}!', 'unknown placeholders stay');
  assert.equal(t('test.onlyGerman'), 'nur Deutsch');
  assert.equal(t('test.missing'), 'test.missing');
  setLang('xx');
  assert.equal(getLang(), 'de', 'anything else is German');
});

test('sizes are formatted in the page language', () => {
  assert.equal(formatBytes(500), '500 Byte');
  assert.equal(formatBytes(1536), '1,5 KB');
  assert.equal(formatBytes(10 * 1024 * 1024), '10 MB');
  setLang('en');
  assert.equal(formatBytes(500), '500 bytes');
  assert.equal(formatBytes(1536), '1.5 KB');
});

test('next opening is worded for a sentence, in the wall-clock time of the authority', () => {
  // A Saturday morning in Berlin (UTC+1 in November).
  const now = new Date('2026-11-28T07:30:00Z');
  setLang('de');
  assert.equal(formatWhen('2026-11-28T09:00:00+01:00', now), 'heute um 9:00 Uhr');
  assert.equal(formatWhen('2026-11-29T14:30:00+01:00', now), 'morgen um 14:30 Uhr');
  assert.equal(formatWhen('2026-11-30T08:00:00+01:00', now), 'am Montag, 30. November um 8:00 Uhr');
  // 23:30 UTC on Friday is already Saturday in Berlin: "heute" is the
  // authority's day, not the browser's.
  assert.equal(formatWhen('2026-11-28T10:00:00+01:00', new Date('2026-11-27T23:30:00Z')), 'heute um 10:00 Uhr');
  setLang('en');
  assert.equal(formatWhen('2026-11-28T09:00:00+01:00', now), 'today at 9:00');
  assert.equal(formatWhen('2026-11-29T14:30:00+01:00', now), 'tomorrow at 14:30');
  assert.equal(formatWhen('2026-11-30T08:00:00+01:00', now), 'on Monday 30 November at 8:00');
  assert.match(formatWhen('2026-07-01T14:30:00Z', now), /14:30/);
  assert.equal(formatWhen('not a date'), 'not a date');
});

test('file types are named as people know them', () => {
  assert.equal(typeLabel('application/pdf'), 'PDF');
  assert.equal(typeLabel('image/jpeg'), 'JPEG');
  assert.equal(typeLabel('text/x-unknown'), 'text/x-unknown');
});
