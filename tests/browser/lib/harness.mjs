// The Node side of internal/browsertest: a script plays a person in a real
// headless Chromium while a Go test plays everything else, and the two meet
// at named steps.
//
// Protocol (one JSON object per line):
//   script → Go, stdout:  {"step": name, "data": …}   {"log": msg}   {"fail": msg}
//   Go → script, stdin:   {"continue": name, "data": …}
// Nothing else is written to stdout: console output of the script goes to
// stderr, which the Go side streams into the test log.
//
// A script is one call of run():
//
//   import { run, launch, step } from '../lib/harness.mjs';
//   run(async () => {
//     const browser = await launch();
//     const page = await browser.newPage();
//     const { url } = await step('ready');
//     await page.goto(url);
//   });
//
// run() closes the browsers and exits 0 when the function resolves; any
// error, page error, unexpected console error, crash or SIGTERM ends the
// script with exit code 1 after a {"fail"} line and, if the Go side gave an
// artifacts directory, a screenshot and the HTML of every open page.

import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// The flags every browser test runs Chromium with: headless, no sandbox (the
// test user may be root in CI), and nothing that talks to the network on its
// own. (--disable-crashpad-for-testing would keep Chromium's crash handler,
// which leaves the process tree and exits with the browser, from starting,
// but with it Chromium 156 aborts every navigation.)
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// The WCAG levels checkA11y holds pages to.
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

const CLOSE_TIMEOUT_MS = 5000;
const SCREENSHOT_TIMEOUT_MS = 5000;

// stdout belongs to the protocol. Keep its write for emit() and point
// everything else (console.log of the script or a library) at stderr.
const protocolWrite = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);

function emit(message) {
  protocolWrite(JSON.stringify(message) + '\n');
}

/** Writes msg into the Go test log as a protocol line. */
export function log(msg) {
  emit({ log: String(msg) });
}

// ---- stdin: the Go side's answers ------------------------------------------

const queuedLines = [];
let lineWaiter = null; // {resolve, reject} of the step waiting for a line
let stdinClosed = false;

const stdinLines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
stdinLines.on('line', (line) => {
  if (lineWaiter) {
    const waiter = lineWaiter;
    lineWaiter = null;
    waiter.resolve(line);
  } else {
    queuedLines.push(line);
  }
});
stdinLines.on('close', () => {
  stdinClosed = true;
  const err = new Error('stdin closed: the Go test stopped talking to this script');
  if (lineWaiter) {
    const waiter = lineWaiter;
    lineWaiter = null;
    waiter.reject(err);
  } else {
    // Nobody will ever continue a step: the test ended or the test binary
    // died. Do not leave Chromium behind.
    fail(err);
  }
});

function nextLine() {
  if (queuedLines.length > 0) return Promise.resolve(queuedLines.shift());
  if (stdinClosed) return Promise.reject(new Error('stdin closed: the Go test stopped talking to this script'));
  return new Promise((resolve, reject) => {
    lineWaiter = { resolve, reject };
  });
}

/**
 * Tells the Go side that the script reached step `name` (with `data`), and
 * resolves with the data of the Go side's {"continue": name, "data": …}.
 */
export async function step(name, data = null) {
  if (typeof name !== 'string' || name === '') throw new TypeError('step needs a non-empty name');
  emit({ step: name, data: data ?? null });
  const line = await nextLine();
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    throw new Error(`step "${name}": the Go side sent a line that is not JSON: ${line}`);
  }
  if (msg === null || typeof msg !== 'object' || msg.continue !== name) {
    throw new Error(`step "${name}": the Go side continued ${JSON.stringify(msg?.continue)} instead`);
  }
  return msg.data ?? null;
}

// ---- browsers and pages ----------------------------------------------------

const browsers = new Set();
const watchedPages = new WeakSet();
const pageAllowLists = new WeakMap(); // page → RegExp[] of tolerated console errors

/**
 * Launches Debian's Chromium (or $RATHAUS_CHROMIUM) headless and returns a
 * playwright-core Browser. Every page created through it fails the script on
 * an uncaught page error, a crash, or a console error that no pattern of
 * allowConsoleErrors (here, or per page with allowConsoleErrors()) matches;
 * only the error of a missing /favicon.ico is always tolerated.
 * Other options are passed to chromium.launch.
 */
export async function launch({ allowConsoleErrors: allowed = [], ...options } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.RATHAUS_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    ...options,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    // run() handles these signals: close the browsers, then exit.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  browsers.add(browser);
  const browserAllowed = [...allowed];
  browser.on('disconnected', () => {
    if (browsers.delete(browser) && !shuttingDown) fail(new Error('Chromium disconnected unexpectedly (crashed or was killed)'));
  });
  // browser.newPage() goes through newContext too, so this sees every page
  // before it loads anything.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (contextOptions) => {
    if (contextOptions?.bypassCSP) throw new Error('bypassCSP is not allowed: tests must see the Content-Security-Policy users get');
    const context = await newContext(contextOptions);
    context.on('page', (page) => watchPage(page, browserAllowed));
    const newPage = context.newPage.bind(context);
    context.newPage = async () => {
      const page = await newPage();
      watchPage(page, browserAllowed);
      return page;
    };
    return context;
  };
  return browser;
}

/**
 * Tolerates console errors on page whose text, followed by " (url:line)"
 * of where it comes from, matches one of patterns.
 */
export function allowConsoleErrors(page, ...patterns) {
  const list = pageAllowLists.get(page);
  if (!list) throw new Error('allowConsoleErrors: page was not created by a browser from launch()');
  list.push(...patterns);
}

function watchPage(page, browserAllowed) {
  if (watchedPages.has(page)) return;
  watchedPages.add(page);
  pageAllowLists.set(page, [...browserAllowed]);
  page.on('pageerror', (err) => {
    fail(new Error(`uncaught error in page ${page.url()}: ${err.stack || err.message}`));
  });
  page.on('crash', () => fail(new Error(`page ${page.url()} crashed`)));
  page.on('console', (msg) => {
    const text = msg.text();
    const where = msg.location()?.url ? ` (${msg.location().url}:${msg.location().lineNumber})` : '';
    process.stderr.write(`[page ${msg.type()}] ${text}${where}\n`);
    if (msg.type() !== 'error') return;
    if (pageAllowLists.get(page).some((re) => re.test(text + where))) return;
    // Chromium asks every site for /favicon.ico on its own; a missing icon
    // is not something the page did.
    if (/\/favicon\.ico$/.test(msg.location()?.url ?? '')) return;
    fail(new Error(`console error in page ${page.url()}: ${text}${where}\n(allow it with allowConsoleErrors(page, /pattern/) if it is expected)`));
  });
}

function openPages() {
  const pages = [];
  for (const browser of browsers) {
    for (const context of browser.contexts()) pages.push(...context.pages());
  }
  return pages;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

let screenshotCount = 0;

/**
 * Saves a full-page screenshot and the HTML of page into the artifacts
 * directory ($RATHAUS_BROWSER_ARTIFACTS, set by the Go side) and returns the
 * PNG's path, or null if there is no such directory.
 */
export async function screenshot(page, name) {
  const dir = process.env.RATHAUS_BROWSER_ARTIFACTS;
  if (!dir) return null;
  mkdirSync(dir, { recursive: true });
  screenshotCount++;
  const base = path.join(dir, `${String(screenshotCount).padStart(2, '0')}-${name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60)}`);
  await page.screenshot({ path: `${base}.png`, fullPage: true, timeout: SCREENSHOT_TIMEOUT_MS });
  writeFileSync(`${base}.html`, await withTimeout(page.content(), SCREENSHOT_TIMEOUT_MS, 'page.content()'));
  return `${base}.png`;
}

async function screenshotAll() {
  const saved = [];
  for (const page of openPages()) {
    let label = 'page';
    try {
      const url = new URL(page.url());
      label = `fail-${url.host}${url.pathname}`;
    } catch {
      // about:blank and friends keep the plain label
    }
    try {
      const file = await screenshot(page, label);
      if (file) saved.push(file);
    } catch (err) {
      process.stderr.write(`harness: no screenshot of ${page.url()}: ${err.message}\n`);
    }
  }
  return saved;
}

let shuttingDown = false;

async function closeBrowsers() {
  shuttingDown = true;
  await Promise.all([...browsers].map((browser) =>
    withTimeout(browser.close(), CLOSE_TIMEOUT_MS, 'closing Chromium').catch((err) => {
      process.stderr.write(`harness: ${err.message}\n`);
    })));
  // Anything still running is killed by playwright-core's exit handler.
}

let failing = null;

/**
 * Ends the script: screenshots of the open pages, a {"fail"} line for the Go
 * side, closed browsers, exit code 1. Later calls wait for the first.
 */
function fail(err) {
  if (failing) return failing;
  failing = (async () => {
    let message = err instanceof Error ? (err.stack || err.message) : String(err);
    if (err instanceof Error && err.stack && !err.stack.includes(err.message)) message = `${err.message}\n${err.stack}`;
    if (!shuttingDown) {
      const shots = await screenshotAll();
      if (shots.length > 0) message += `\nscreenshots: ${shots.join(', ')}`;
    }
    emit({ fail: message });
    await closeBrowsers();
    process.exit(1);
  })();
  return failing;
}

process.on('uncaughtException', (err) => fail(err));
process.on('unhandledRejection', (err) => fail(err));
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => {
    // The Go side is cleaning up after a passing test: no screenshots, just
    // do not leak Chromium.
    shuttingDown = true;
    fail(new Error(`stopped by ${signal}`));
  });
}
// The Go side stops the script this way when its test failed (a timeout, an
// unexpected step): the pages show where the script got stuck.
process.on('SIGUSR2', () => fail(new Error('stopped because the Go test failed')));

/**
 * Runs the script's main function: exit code 0 when it resolves (after
 * closing every browser), otherwise a {"fail"} line and exit code 1.
 */
export async function run(main) {
  try {
    await main();
  } catch (err) {
    await fail(err);
    return;
  }
  if (failing) return; // a page error arrived meanwhile; fail() exits
  await closeBrowsers();
  process.exit(0);
}

// ---- accessibility ---------------------------------------------------------

/**
 * Runs axe-core in page against WCAG 2.0/2.1 A and AA and throws listing
 * every serious or critical violation (rule, help, target selectors).
 * Returns a summary of all results for logging.
 *
 * axe is evaluated through the DevTools protocol (page.evaluate), not added
 * as a <script>, so it runs under a strict script-src CSP without the
 * context having to bypass it.
 */
export async function checkA11y(page, label, { include, exclude, disableRules = [] } = {}) {
  const present = await page.evaluate(() => typeof window.axe?.run === 'function');
  if (!present) await page.evaluate(axeSource);
  const results = await page.evaluate(async ({ include, exclude, tags, disableRules }) => {
    const context = include || exclude ? { include: include ?? [document], exclude: exclude ?? [] } : document;
    const rules = Object.fromEntries(disableRules.map((id) => [id, { enabled: false }]));
    const r = await window.axe.run(context, {
      runOnly: { type: 'tag', values: tags },
      rules,
      resultTypes: ['violations'],
    });
    return {
      url: r.url,
      passes: r.passes.length,
      incomplete: r.incomplete.map((v) => v.id),
      inapplicable: r.inapplicable.length,
      violations: r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        targets: v.nodes.map((n) => n.target.join(' ')),
      })),
    };
  }, { include, exclude, tags: WCAG_TAGS, disableRules });
  const summary = { label, ...results };
  const blocking = results.violations.filter((v) => BLOCKING_IMPACTS.has(v.impact));
  for (const v of results.violations.filter((v) => !BLOCKING_IMPACTS.has(v.impact))) {
    process.stderr.write(`axe ${label}: ${v.impact} ${v.id}: ${v.help} at ${v.targets.join(', ')}\n`);
  }
  if (blocking.length > 0) {
    const lines = blocking.map((v) => `  - ${v.id} (${v.impact}): ${v.help}\n    at ${v.targets.join(', ')}\n    ${v.helpUrl}`);
    const err = new Error(`accessibility check "${label}" found ${blocking.length} serious or critical violation(s) on ${results.url}:\n${lines.join('\n')}`);
    err.a11y = summary;
    throw err;
  }
  return summary;
}

// ---- keyboard --------------------------------------------------------------

/**
 * Presses Tab (keyboard only) until document.activeElement matches selector,
 * at most max times, then checks that the focused element shows a visible
 * focus indicator. Returns {presses, element}.
 */
export function tabTo(page, selector, { max = 40 } = {}) {
  return keyTo(page, 'Tab', selector, max);
}

/** Like tabTo, backwards with Shift+Tab. */
export function shiftTabTo(page, selector, { max = 40 } = {}) {
  return keyTo(page, 'Shift+Tab', selector, max);
}

async function keyTo(page, key, selector, max) {
  const visited = [];
  for (let presses = 1; presses <= max; presses++) {
    await page.keyboard.press(key);
    const focused = await page.evaluate(focusState, selector);
    if (focused.matches) {
      if (!focused.indicator.visible) {
        const s = focused.indicator;
        throw new Error(`${key} reached ${selector} (${focused.element}) after ${presses} press(es), but it shows no visible focus indicator: ` +
          `outline ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}, box-shadow ${s.boxShadow}`);
      }
      return { presses, element: focused.element };
    }
    visited.push(focused.element);
  }
  throw new Error(`${key} pressed ${max} times without reaching ${selector}; focus went ${visited.join(' → ')}`);
}

// Runs in the page: what has focus, and can a sighted keyboard user see it?
function focusState(selector) {
  const el = document.activeElement;
  const describe = (e) => {
    if (!e || e === document.body) return '<body>';
    let d = e.tagName.toLowerCase();
    if (e.id) d += `#${e.id}`;
    if (e.getAttribute('name')) d += `[name=${e.getAttribute('name')}]`;
    const text = (e.textContent || '').trim().slice(0, 30);
    return text ? `${d} "${text}"` : d;
  };
  if (!el || el === document.body || !el.matches(selector)) {
    return { matches: false, element: describe(el) };
  }
  const cs = getComputedStyle(el);
  const transparent = (color) => color === 'transparent' || /rgba\(.*,\s*0\)$/.test(color);
  const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0 && !transparent(cs.outlineColor);
  const shadow = cs.boxShadow !== 'none' && cs.boxShadow !== '';
  return {
    matches: true,
    element: describe(el),
    indicator: {
      visible: outline || shadow,
      outlineStyle: cs.outlineStyle,
      outlineWidth: cs.outlineWidth,
      outlineColor: cs.outlineColor,
      boxShadow: cs.boxShadow,
    },
  };
}
