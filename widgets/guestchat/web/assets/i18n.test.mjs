import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  catalogs, ERROR_CODES, STATUSES, NOTICES, SUBMISSIONS, t, setLang, errorText, statusText, noticeText, submissionOf,
} from './i18n.js';

test('German and English have the same keys', () => {
  const de = Object.keys(catalogs.de).sort();
  const en = Object.keys(catalogs.en).sort();
  assert.deepEqual(en, de);
});

test('every text is non-empty and uses the same placeholders in both languages', () => {
  const ph = (s) => (s.match(/\{\w+\}/g) || []).sort();
  for (const [key, s] of Object.entries(catalogs.de)) {
    assert.ok(s.trim() !== '', key);
    assert.ok(catalogs.en[key].trim() !== '', key);
    assert.deepEqual(ph(catalogs.en[key]), ph(s), key);
  }
});

test('every error code and status of the contract has a text', () => {
  for (const lang of ['de', 'en']) {
    for (const code of ERROR_CODES) assert.ok(catalogs[lang][`error.${code}`], `${lang} error.${code}`);
    for (const s of STATUSES) assert.ok(catalogs[lang][`status.${s}`], `${lang} status.${s}`);
    for (const n of NOTICES) assert.ok(catalogs[lang][`notice.${n}`], `${lang} notice.${n}`);
  }
});

test('t fills placeholders and errorText falls back for unknown codes', () => {
  setLang('en');
  assert.equal(t('chat.queue', { position: 2 }), 'You are number 2 in the queue.');
  assert.equal(errorText('no_such_code'), catalogs.en['error.unknown']);
  setLang('de');
  assert.equal(t('chat.queue', { position: 3 }), 'Sie sind an Position 3 der Warteschlange.');
  setLang('xx');
  assert.equal(t('entry.submit'), 'Absenden');
});

test('statuses and the kit\'s texts come through the guest chat\'s module', () => {
  setLang('de');
  assert.equal(statusText('awaiting_citizen'), 'wartet auf Ihre Antwort');
  assert.equal(statusText('nonsense'), 'unbekannt');
  assert.equal(t('unit.mb', { n: 2 }), '2 MB', 'the kit registered its own texts');
});

test('notices are in one language, and unknown kinds are skipped', () => {
  setLang('de');
  assert.equal(noticeText('case_transferred', { team: 'Ordnungsamt' }),
    'Ihr Anliegen wurde an das Team Ordnungsamt weitergegeben. Es betreut Sie ab jetzt.');
  assert.equal(noticeText('from_a_newer_server'), '');
  setLang('en');
  assert.equal(noticeText('case_resolved'), 'Your request has been resolved. Thank you!');
  for (const lang of ['de', 'en']) {
    for (const n of NOTICES) assert.doesNotMatch(catalogs[lang][`notice.${n}`], / \/ /, `${lang} notice.${n} is in one language`);
  }
});

test('a submission notice names its status, which has a short word for the case header', () => {
  for (const status of SUBMISSIONS) {
    assert.equal(submissionOf(`submission_${status}`), status);
    assert.ok(NOTICES.includes(`submission_${status}`));
    for (const lang of ['de', 'en']) assert.ok(catalogs[lang][`submission.${status}`], `${lang} submission.${status}`);
  }
  assert.equal(submissionOf('case_resolved'), '');
  assert.equal(submissionOf('submission_approved'), '', 'a status of a newer server is skipped');
  assert.equal(submissionOf(undefined), '');
});
