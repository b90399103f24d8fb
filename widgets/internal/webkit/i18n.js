// The i18n core of rathaus's pages: one catalogue per language, German
// first and English second, t() with {placeholders}, and the formatting of
// sizes, dates and MIME types. The server picks the language (data-lang on
// <body>); a page calls setLang() with it and adds its own texts with
// addTexts(). t() falls back to German, then to the key.

// The kit's own texts: what formatBytes needs.
const kitDe = {
  'unit.bytes': '{n} Byte',
  'unit.kb': '{n} KB',
  'unit.mb': '{n} MB',
};

const kitEn = {
  'unit.bytes': '{n} bytes',
  'unit.kb': '{n} KB',
  'unit.mb': '{n} MB',
};

// kitCatalogs are the kit's own texts, for tests.
export const kitCatalogs = Object.freeze({ de: Object.freeze({ ...kitDe }), en: Object.freeze({ ...kitEn }) });

const catalogs = { de: { ...kitDe }, en: { ...kitEn } };

// addTexts adds a page's texts: addTexts({de: {key: text}, en: {…}}).
export function addTexts({ de = {}, en = {} } = {}) {
  Object.assign(catalogs.de, de);
  Object.assign(catalogs.en, en);
}

let lang = 'de';

export function setLang(l) {
  lang = l === 'en' ? 'en' : 'de';
}

export function getLang() {
  return lang;
}

// The locale for dates and numbers: British English gives the 24-hour
// clock and day-month order the German office hours are written in.
function locale() {
  return lang === 'en' ? 'en-GB' : 'de-DE';
}

export function t(key, params) {
  let s = catalogs[lang][key];
  if (s === undefined) s = catalogs.de[key];
  if (s === undefined) return key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return s;
}

export function formatBytes(n) {
  if (n < 1024) return t('unit.bytes', { n });
  const nf = new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 });
  if (n < 1024 * 1024) return t('unit.kb', { n: nf.format(n / 1024) });
  return t('unit.mb', { n: nf.format(n / (1024 * 1024)) });
}

// formatWhen words a moment for a sentence such as "Wir sind {when} wieder
// da.": "heute um 9:00 Uhr", "morgen um 9:00 Uhr", "am Montag, 30. November
// um 9:00 Uhr" (English: "today at 9:00", "on Monday, 30 November at
// 9:00"). Given the RFC 3339 string from the API, it shows the authority's
// wall clock (the offset in the string), not the browser's time zone:
// "opens at 8:00" must read 8:00 even on a laptop set to UTC; "today" is
// today there too. now is for tests.
export function formatWhen(when, now = new Date()) {
  let instant;
  let offset = null; // minutes east of UTC, from the string
  if (typeof when === 'string') {
    instant = Date.parse(when);
    if (Number.isNaN(instant)) return when;
    const m = /([+-])(\d{2}):?(\d{2})$|Z$/i.exec(when);
    if (m) offset = m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  } else if (when instanceof Date && !Number.isNaN(when.getTime())) {
    instant = when.getTime();
  } else {
    return String(when);
  }
  // Shifted by the offset and read as UTC, the date parts are the
  // authority's; without an offset, the browser's own.
  const zone = offset === null ? {} : { timeZone: 'UTC' };
  const shift = (ms) => new Date(offset === null ? ms : ms + offset * 60000);
  const at = shift(instant);
  const dayOf = (d) => new Intl.DateTimeFormat('en-CA', { ...zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
  const day = dayOf(at);
  const today = dayOf(shift(now.getTime()));
  const tomorrow = dayOf(shift(now.getTime() + 24 * 3600 * 1000));
  const time = new Intl.DateTimeFormat(locale(), { ...zone, hour: 'numeric', minute: '2-digit', hourCycle: 'h23' }).format(at);
  let date = null;
  if (day !== today && day !== tomorrow) {
    date = new Intl.DateTimeFormat(locale(), { ...zone, weekday: 'long', day: 'numeric', month: 'long' }).format(at);
  }
  if (lang === 'en') {
    if (day === today) return `today at ${time}`;
    if (day === tomorrow) return `tomorrow at ${time}`;
    return `on ${date} at ${time}`;
  }
  if (day === today) return `heute um ${time} Uhr`;
  if (day === tomorrow) return `morgen um ${time} Uhr`;
  return `am ${date} um ${time} Uhr`;
}

export function formatTime(date) {
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  const opts = sameDay
    ? { hour: '2-digit', minute: '2-digit' }
    : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
  return new Intl.DateTimeFormat(locale(), opts).format(date);
}

// typeLabel turns a MIME type into what people know it as.
export function typeLabel(mime) {
  const known = {
    'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/gif': 'GIF', 'image/webp': 'WebP', 'application/pdf': 'PDF',
  };
  return known[mime] || mime;
}
