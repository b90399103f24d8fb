// The citizen of TestBrowserCitizenWording (cmd/rathaus): what the page
// says while a department is closed, how a status and the bot's notices
// read live, after a reload and in the transcript, and that each language
// shows only itself (issue 11, points 1, 3, 4 and 5).
import { run, launch, step, log, checkA11y } from '../lib/harness.mjs';
import { until, watchDialogs, waitForStatus } from './citizen.mjs';

run(async () => {
  const browser = await launch();
  const { base } = await step('ready');
  const a11y = [];
  const check = async (page, label) => {
    const r = await checkA11y(page, label);
    a11y.push({ label, passes: r.passes });
  };

  // ---- a question while the department is closed -----------------------
  const closedContext = await browser.newContext({ locale: 'de-DE' });
  const closed = await closedContext.newPage();
  const dialogs = watchDialogs(closed);
  await closed.goto(`${base}/chat/standesamt`);
  await closed.waitForSelector('#entry:not([hidden])');
  expectEqual((await closed.textContent('h1')).trim(), 'Chat mit dem Team Standesamt', 'the heading');
  expectMatch(await closed.textContent('#dept-closed-text'),
    /^Zurzeit geschlossen\. Wir sind (heute|morgen|am [A-Z][a-z]+, \d{1,2}\. [A-Z][a-zä]+) um \d{1,2}:\d{2} Uhr wieder da\.$/,
    'the closed notice of the entry');
  await closed.fill('#question', 'Wann kann ich die Geburtsurkunde abholen?');
  await closed.click('#submit');
  await closed.waitForSelector('#chat:not([hidden])', { timeout: 30000 });
  const waitPattern = /^Das Team ist zurzeit nicht da\. Es ist (heute|morgen|am [A-Z][a-z]+, \d{1,2}\. [A-Z][a-zä]+) um \d{1,2}:\d{2} Uhr wieder für Sie da\. Bis dahin antwortet Ihnen niemand\.$/;
  const waiting = async (what) => {
    await closed.waitForSelector('#closed-wait:not([hidden])');
    expectMatch(await closed.textContent('#closed-wait-text'), waitPattern, `${what}: when the team is back`);
    expectIncludes(await closed.textContent('#closed-wait'), 'Ihre Frage ist gespeichert und wartet auf das Team.', `${what}: what happens meanwhile`);
    if (await closed.isVisible('#queue-position')) {
      throw new Error(`${what}: the queue position shows while nobody answers: ${await closed.textContent('#queue-position')}`);
    }
  };
  await waiting('after asking');
  await check(closed, 'chat, queued while the department is closed');
  await oneLanguage(closed, 'de', 'queued while closed');
  // It stays: after a reload, and in English.
  await closed.reload();
  await closed.waitForSelector('#chat:not([hidden])');
  await waiting('after a reload');
  await closed.goto(`${base}/chat/standesamt?lang=en`);
  await closed.waitForSelector('#closed-wait:not([hidden])');
  expectMatch(await closed.textContent('#closed-wait-text'),
    /^The team is not here at the moment\. They will be back for you (today|tomorrow|on [A-Z][a-z]+ \d{1,2} [A-Z][a-z]+) at \d{1,2}:\d{2}\. Nobody will answer you until then\.$/,
    'the closed notice in English');
  expectEqual((await closed.textContent('h1')).trim(), 'Chat with the Standesamt team', 'the heading in English');
  await check(closed, 'chat, queued while the department is closed (en)');
  await oneLanguage(closed, 'en', 'queued while closed (en)');

  // ---- status and notices, live, after a reload, in the transcript -------
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  dialogs.push(...watchDialogs(page));
  await page.goto(`${base}/chat/bauamt`);
  await page.waitForSelector('#entry:not([hidden])');
  await page.fill('#question', 'Brauche ich für einen Gartenzaun eine Genehmigung?');
  await page.click('#submit');
  await page.waitForSelector('#chat:not([hidden])', { timeout: 30000 });
  await page.waitForSelector('#queue-position:not([hidden])');
  expectIncludes(await page.textContent('#queue-position'), 'Sie sind als Nächstes an der Reihe.', 'the queue of an open department');
  if (await page.isVisible('#closed-wait')) throw new Error('the closed notice shows for an open department');
  const reference = (await page.textContent('#case-reference')).trim();
  await step('queued', { reference });

  await waitForStatus(page, 'in Bearbeitung');
  await until('the status change in the log', 10000, async () => (await events(page)).includes('Status: in Bearbeitung') || JSON.stringify(await events(page)));
  await page.reload();
  await page.waitForSelector('#chat:not([hidden])');
  await until('the status change in the log after a reload', 10000, async () => (await events(page)).includes('Status: in Bearbeitung') || JSON.stringify(await events(page)));
  await step('active');

  await waitForStatus(page, 'erledigt');
  await until('the notice of the resolved case', 10000, async () => {
    const e = await events(page);
    return (e.includes('Ihr Anliegen ist erledigt. Vielen Dank!') && e.includes('Status: erledigt')) || JSON.stringify(e);
  });
  const log1 = await page.textContent('#message-list');
  if (log1.includes(' / ') || /This case|resolved/.test(log1)) throw new Error(`the German log shows English: ${log1}`);
  await check(page, 'chat, resolved with notice');
  await oneLanguage(page, 'de', 'resolved');
  const transcriptDe = await transcript(page, 'de');
  for (const line of ['] Status: in Bearbeitung\n', '] Status: erledigt\n', '] Ihr Anliegen ist erledigt. Vielen Dank!\n', 'Sie: Brauche ich für einen Gartenzaun']) {
    expectIncludes(transcriptDe, line, 'the German transcript');
  }
  for (const raw of ['Status: active', 'Status: resolved', ' / ', 'Thank you']) {
    if (transcriptDe.includes(raw)) throw new Error(`the German transcript contains ${JSON.stringify(raw)}:\n${transcriptDe}`);
  }

  await page.goto(`${base}/chat/bauamt?lang=en`);
  await page.waitForSelector('#chat:not([hidden])');
  await until('the English log', 10000, async () => {
    const e = await events(page);
    return (e.includes('Status: in progress') && e.includes('Status: resolved') && e.includes('Your request has been resolved. Thank you!')) || JSON.stringify(e);
  });
  await check(page, 'chat, resolved with notice (en)');
  await oneLanguage(page, 'en', 'resolved (en)');
  const transcriptEn = await transcript(page, 'en');
  for (const line of ['] Status: in progress\n', '] Status: resolved\n', '] Your request has been resolved. Thank you!\n', 'You: Brauche ich']) {
    expectIncludes(transcriptEn, line, 'the English transcript');
  }
  for (const raw of ['Status: active', ' / ', 'Vielen Dank', 'Hinweis', 'erledigt']) {
    if (transcriptEn.includes(raw)) throw new Error(`the English transcript contains ${JSON.stringify(raw)}:\n${transcriptEn}`);
  }

  if (dialogs.length) throw new Error(`the page opened dialogs: ${JSON.stringify(dialogs)}`);
  log(`axe checked ${a11y.length} states`);
  await step('done', { a11y });
});

// events lists the texts of the log's event lines (status, notices).
function events(page) {
  return page.evaluate(() => [...document.querySelectorAll('#message-list li.event .body')].map((p) => p.textContent));
}

// transcript downloads the transcript with the page's own session.
function transcript(page, lang) {
  return page.evaluate(async (l) => {
    const s = await (await fetch('/api/guest/v1/session', { headers: { Accept: 'application/json' } })).json();
    const res = await fetch(`/api/guest/v1/cases/${s.case.id}/transcript?lang=${l}`);
    if (!res.ok) throw new Error(`transcript: ${res.status}`);
    return res.text();
  }, lang);
}

// oneLanguage fails if the visible text of the page contains a text of the
// other language's catalogue that the page's own language does not share:
// German pages show German only, English pages English only.
async function oneLanguage(page, lang, what) {
  const found = await page.evaluate(async (want) => {
    const { catalogs } = await import('/assets/i18n.js');
    const other = catalogs[want === 'de' ? 'en' : 'de'];
    const own = Object.values(catalogs[want]).join('\n');
    const fragments = new Set();
    for (const text of Object.values(other)) {
      for (const f of text.split(/\{\w+\}/)) {
        const frag = f.trim();
        if (frag.length >= 12 && !own.includes(frag)) fragments.add(frag);
      }
    }
    const visible = document.body.innerText;
    return [...fragments].filter((f) => visible.includes(f));
  }, lang);
  if (found.length) throw new Error(`${what}: the ${lang} page shows text of the other language: ${JSON.stringify(found)}`);
}

function expectIncludes(text, want, what) {
  if (typeof text !== 'string' || !text.includes(want)) throw new Error(`${what}: ${JSON.stringify(text)} does not contain ${JSON.stringify(want)}`);
}

function expectMatch(text, re, what) {
  if (typeof text !== 'string' || !re.test(text.trim())) throw new Error(`${what}: ${JSON.stringify(text)} does not match ${re}`);
}

function expectEqual(got, want, what) {
  if (got !== want) throw new Error(`${what}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
