// Every text the guest chat shows, German first, English second, and the
// texts of the API's error codes and case statuses. The machinery (t(),
// the language, formatting) is the kit's (kit/i18n.js), re-exported here
// for the page's modules.
//
// Placeholders are written {name} and filled by t(key, {name: …}).

import { addTexts, t } from './kit/i18n.js';

export {
  setLang, getLang, t, formatBytes, formatWhen, formatTime, typeLabel,
} from './kit/i18n.js';

const de = {
  'page.title': 'Chat mit dem Team {department} – {authority}',
  'page.heading': 'Chat mit dem Team {department}',
  'page.headingNoDept': 'Chat mit der Verwaltung',
  'page.loading': 'Der Chat wird geladen …',
  'lang.switch': 'English',
  'lang.nav': 'Sprache',

  'entry.heading': 'Ihre Frage an uns',
  'entry.sessionEnded': 'Ihre Sitzung ist beendet. Das Gespräch ist in diesem Browser nicht mehr zu lesen.',
  'entry.open': 'Jetzt geöffnet. Ein Mitglied des Teams antwortet Ihnen hier.',
  'entry.closed': 'Zurzeit geschlossen.',
  'entry.closedNext': 'Zurzeit geschlossen. Wir sind {when} wieder da.',
  'entry.closedLeave': 'Sie können Ihre Frage trotzdem jetzt stellen. Sie wartet dann auf das Team. Die Antwort sehen Sie, wenn Sie diese Seite später im selben Browser wieder öffnen.',
  'entry.officeHours': 'Sprechzeiten: {hours}',
  'entry.privacyText': 'Was Sie hier schreiben, wird an das Team übermittelt und für die Bearbeitung Ihres Anliegens gespeichert. Es wird kein Konto angelegt und nichts an Dritte weitergegeben.',
  'entry.privacyLink': 'Datenschutzerklärung von {authority}',
  'entry.privacyLinkShort': 'Datenschutzerklärung',
  'entry.contactLink': 'Andere Kontaktwege',
  'entry.name': 'Ihr Name (freiwillig)',
  'entry.nameHint': 'Nur wenn Sie möchten, dass das Team Sie mit Namen anspricht.',
  'entry.question': 'Ihre Frage',
  'entry.questionHint': 'Bitte schreiben Sie keine Passwörter oder Kontodaten in den Chat.',
  'entry.counter': '{count} von {max} Zeichen',
  'entry.counterOver': '{count} von {max} Zeichen – bitte kürzen Sie um {over} Zeichen.',
  'entry.submit': 'Absenden',
  'entry.required': '(Pflichtfeld)',

  'pow.start': 'Sicherheitsprüfung: Ihr Browser rechnet kurz, um Missbrauch zu verhindern …',
  'pow.progress': 'Sicherheitsprüfung läuft … etwa {percent} %',
  'pow.done': 'Sicherheitsprüfung abgeschlossen. Ihre Anfrage wird gesendet …',
  'pow.retry': 'Die Sicherheitsprüfung wird wiederholt …',
  'pow.opening': 'Ihre Anfrage wird gesendet …',
  'pow.label': 'Fortschritt der Sicherheitsprüfung',

  'chat.heading': 'Ihr Gespräch',
  'chat.reference': 'Aktenzeichen',
  'chat.status': 'Status',
  'chat.queue': 'Sie sind an Position {position} der Warteschlange.',
  'chat.queueNext': 'Sie sind als Nächstes an der Reihe.',
  'chat.waitClosed': 'Das Team ist zurzeit nicht da. Bis es wieder da ist, antwortet Ihnen niemand.',
  'chat.waitClosedNext': 'Das Team ist zurzeit nicht da. Es ist {when} wieder für Sie da. Bis dahin antwortet Ihnen niemand.',
  'chat.waitLeave': 'Ihre Frage ist gespeichert und wartet auf das Team. Sie können diese Seite schließen. Öffnen Sie sie später im selben Browser wieder, dann sehen Sie die Antwort.',
  'chat.messages': 'Nachrichten',
  'chat.input': 'Ihre Nachricht',
  'chat.inputHint': 'Mit der Eingabetaste senden Sie die Nachricht. Mit Umschalt und Eingabetaste beginnen Sie eine neue Zeile.',
  'chat.send': 'Senden',
  'chat.attach': 'Datei anhängen',
  'chat.attachHint': 'Erlaubt: {types}, höchstens {size}.',
  'chat.transcript': 'Gespräch als Text herunterladen',
  'chat.close': 'Gespräch beenden',
  'chat.newCase': 'Neue Anfrage',
  'chat.endSession': 'Sitzung beenden',
  'chat.typing': '{team} schreibt …',
  'chat.typingTeam': 'Das Team schreibt …',
  'chat.read': 'gelesen',
  'chat.redacted': 'Diese Nachricht wurde gelöscht.',
  'chat.edited': '(bearbeitet)',
  'chat.pending': 'wird gesendet …',
  'chat.pendingRetry': 'noch nicht gesendet – neuer Versuch in {seconds} Sekunden',
  'chat.uploading': 'Datei wird gesendet: {name}',
  'chat.you': 'Sie',
  'chat.team': 'Team',
  'chat.system': 'Hinweis',
  'chat.attachment': 'Anhang: {name} ({size})',
  'chat.imageAlt': 'Bild: {name}',
  'chat.staffJoined': 'Ein Mitglied des Teams {team} ist jetzt für Sie da.',
  'chat.statusChanged': 'Status: {status}',
  'chat.connecting': 'Verbindung wird aufgebaut …',
  'chat.disconnected': 'Verbindung unterbrochen – wird wiederhergestellt …',
  'chat.reconnected': 'Verbindung wiederhergestellt.',
  'chat.sessionGone': 'Ihre Sitzung ist abgelaufen oder wurde beendet. Dieses Gespräch kann hier nicht mehr fortgesetzt werden.',
  'chat.empty': 'Noch keine Nachrichten.',

  'status.queued': 'wartet auf das Team',
  'status.active': 'in Bearbeitung',
  'status.awaiting_citizen': 'wartet auf Ihre Antwort',
  'status.resolved': 'erledigt',
  'status.closed': 'beendet',
  'status.abandoned': 'wegen Inaktivität beendet',
  'status.transferred': 'an eine andere Stelle abgegeben',
  'status.purged': 'gelöscht',
  'status.unknown': 'unbekannt',

  'notice.case_resolved': 'Ihr Anliegen ist erledigt. Vielen Dank!',
  'notice.case_closed': 'Das Team hat das Gespräch beendet. Vielen Dank!',
  'notice.case_reopened': 'Das Gespräch ist wieder offen. Sie können wieder schreiben.',
  'notice.case_abandoned': 'Das Gespräch wurde beendet, weil längere Zeit niemand geschrieben hat.',
  'notice.resolved_case_closed': 'Ihr Anliegen war erledigt. Das Gespräch ist jetzt beendet.',
  'notice.citizen_closed': 'Sie haben das Gespräch beendet.',
  'notice.case_transferred': 'Ihr Anliegen wurde an das Team {team} weitergegeben. Es betreut Sie ab jetzt.',
  'notice.submission_submitted': 'Ihr Antrag ist abgeschickt. Er wird jetzt an die zuständige Stelle übermittelt.',
  'notice.submission_forwarded': 'Ihr Antrag wurde weitergeleitet. Er ist auf dem Weg zur zuständigen Stelle.',
  'notice.submission_accepted': 'Ihr Antrag ist bei der zuständigen Stelle angekommen. Entschieden ist darüber noch nicht.',
  'notice.submission_rejected': 'Die zuständige Stelle konnte Ihren Antrag aus technischen Gründen nicht annehmen. Das ist keine Entscheidung über Ihren Antrag. Bitte fragen Sie hier, wie es weitergeht.',
  'chat.submission': 'Ihr Antrag',
  'submission.submitted': 'abgeschickt',
  'submission.forwarded': 'weitergeleitet',
  'submission.accepted': 'bei der zuständigen Stelle angekommen',
  'submission.rejected': 'nicht angenommen',

  'closed.resolved': 'Das Team hat Ihr Anliegen als erledigt markiert. Sie können hier nicht mehr schreiben.',
  'closed.closed': 'Das Gespräch ist beendet. Sie können hier nicht mehr schreiben.',
  'closed.abandoned': 'Das Gespräch wurde beendet, weil längere Zeit niemand geschrieben hat.',
  'closed.transferred': 'Ihr Anliegen wurde an eine andere Stelle abgegeben.',
  'closed.purged': 'Das Gespräch wurde nach Ablauf der Aufbewahrungsfrist gelöscht.',
  'closed.generic': 'Das Gespräch ist beendet. Sie können hier nicht mehr schreiben.',
  'closed.transcriptHint': 'Wenn Sie das Gespräch behalten möchten, laden Sie es jetzt herunter. In diesem Browser ist es nur noch kurze Zeit zu lesen.',
  'closed.byYou': 'Sie haben das Gespräch beendet. Ihre Sitzung ist damit auch beendet. Wenn Sie diese Seite schließen oder neu laden, ist das Gespräch in diesem Browser nicht mehr zu lesen.',
  'closed.endSessionHint': 'Sie nutzen einen fremden oder öffentlichen Computer? Dann beenden Sie die Sitzung. Danach ist das Gespräch hier nicht mehr zu lesen.',

  'dialog.closeTitle': 'Gespräch beenden?',
  'dialog.closeText': 'Danach können Sie nicht mehr schreiben. Auch Ihre Sitzung endet: Das Gespräch ist dann in diesem Browser nicht mehr zu lesen. Wenn Sie es behalten möchten, laden Sie es vorher herunter.',
  'dialog.closeConfirm': 'Ja, Gespräch beenden',
  'dialog.cancel': 'Abbrechen',
  'dialog.idleTitle': 'Sind Sie noch da?',
  'dialog.idleText': 'Wenn Sie nicht reagieren, wird das Gespräch {when} beendet.',
  'dialog.stillHere': 'Ich bin noch da',

  'file.tooLarge': 'Die Datei „{name}“ ist zu groß ({size}). Erlaubt sind höchstens {max}.',
  'file.badType': 'Die Datei „{name}“ hat ein Format, das hier nicht angenommen wird. Erlaubt: {types}.',

  'error.bad_request': 'Die Anfrage war unvollständig oder fehlerhaft. Bitte prüfen Sie Ihre Eingaben.',
  'error.pow_invalid': 'Die Sicherheitsprüfung ist fehlgeschlagen. Bitte senden Sie erneut.',
  'error.pow_expired': 'Die Sicherheitsprüfung ist abgelaufen. Bitte senden Sie erneut.',
  'error.pow_replayed': 'Die Sicherheitsprüfung wurde schon verwendet. Bitte senden Sie erneut.',
  'error.unauthorized': 'Ihre Sitzung ist abgelaufen. Bitte laden Sie die Seite neu.',
  'error.csrf': 'Die Anfrage wurde aus Sicherheitsgründen abgelehnt. Bitte laden Sie die Seite neu.',
  'error.not_found': 'Diese Stelle oder dieses Gespräch wurde nicht gefunden.',
  'error.case_closed': 'Das Gespräch ist bereits beendet. Ihre Nachricht wurde nicht gesendet.',
  'error.too_long': 'Ihre Nachricht ist zu lang. Bitte kürzen Sie sie auf höchstens {max} Zeichen.',
  'error.too_large': 'Die Datei ist zu groß. Erlaubt sind höchstens {max}.',
  'error.unsupported_type': 'Dieses Dateiformat wird nicht angenommen. Erlaubt: {types}.',
  'error.rate_limited': 'Zu viele Anfragen in kurzer Zeit. Bitte warten Sie {seconds} Sekunden.',
  'error.unavailable': 'Der Dienst ist gerade nicht erreichbar. Wir versuchen es automatisch noch einmal.',
  'error.network': 'Keine Verbindung zum Server. Wir versuchen es automatisch noch einmal.',
  'error.unknown': 'Etwas ist schiefgegangen. Bitte versuchen Sie es später noch einmal.',
  'error.questionEmpty': 'Bitte schreiben Sie Ihre Frage.',
  'error.questionTooLong': 'Ihre Frage ist zu lang. Bitte kürzen Sie sie auf höchstens {max} Zeichen.',
  'error.noWorker': 'Ihr Browser kann die Sicherheitsprüfung nicht ausführen. Bitte verwenden Sie einen aktuellen Browser.',
  'error.boot': 'Der Chat konnte nicht geladen werden. Bitte laden Sie die Seite später neu.',
  'handover.service': 'Ihre Anfrage zu: {service}',
  'handover.step': 'Schritt im Online-Dienst: {step}',
  'handover.checking': 'Ihre Angaben aus dem Online-Dienst werden geprüft …',
  'handover.refusedHeading': 'Der Link aus dem Online-Dienst funktioniert nicht',
  'handover.refusedAdvice': 'Bitte gehen Sie zurück zum Online-Dienst und wählen Sie dort erneut „Hilfe“. Ihre Eingaben im Online-Dienst sind davon nicht betroffen.',
  'handover.plainLink': 'Ohne Angaben aus dem Online-Dienst schreiben',
  'error.context_invalid': 'Der Link ist ungültig. Er wurde nicht vom Online-Dienst erstellt oder ist unvollständig.',
  'error.context_expired': 'Der Link ist abgelaufen. Links aus dem Online-Dienst gelten nur wenige Minuten.',
  'error.context_replayed': 'Der Link wurde schon in einem anderen Browser oder Fenster geöffnet und gilt nur einmal.',
  'error.context_unknown_service': 'Der Link stammt von einem Online-Dienst, den diese Verwaltung nicht kennt.',

};

const en = {
  'page.title': 'Chat with the {department} team – {authority}',
  'page.heading': 'Chat with the {department} team',
  'page.headingNoDept': 'Chat with the administration',
  'page.loading': 'Loading the chat …',
  'lang.switch': 'Deutsch',
  'lang.nav': 'Language',

  'entry.heading': 'Your question to us',
  'entry.sessionEnded': 'Your session has ended. The conversation can no longer be read in this browser.',
  'entry.open': 'Open now. A member of the team will answer you here.',
  'entry.closed': 'Closed at the moment.',
  'entry.closedNext': 'Closed at the moment. We are back {when}.',
  'entry.closedLeave': 'You can still ask your question now. It will then wait for the team. You will see the answer when you open this page again later in the same browser.',
  'entry.officeHours': 'Office hours: {hours}',
  'entry.privacyText': 'What you write here is passed to the team and stored to handle your request. No account is created and nothing is passed to third parties.',
  'entry.privacyLink': 'Privacy notice of {authority}',
  'entry.privacyLinkShort': 'Privacy notice',
  'entry.contactLink': 'Other ways to contact us',
  'entry.name': 'Your name (optional)',
  'entry.nameHint': 'Only if you would like the team to address you by name.',
  'entry.question': 'Your question',
  'entry.questionHint': 'Please do not write passwords or bank details in the chat.',
  'entry.counter': '{count} of {max} characters',
  'entry.counterOver': '{count} of {max} characters – please shorten by {over} characters.',
  'entry.submit': 'Send',
  'entry.required': '(required)',

  'pow.start': 'Security check: your browser is doing a short calculation to prevent abuse …',
  'pow.progress': 'Security check running … about {percent} %',
  'pow.done': 'Security check complete. Sending your request …',
  'pow.retry': 'Repeating the security check …',
  'pow.opening': 'Sending your request …',
  'pow.label': 'Progress of the security check',

  'chat.heading': 'Your conversation',
  'chat.reference': 'Reference',
  'chat.status': 'Status',
  'chat.queue': 'You are number {position} in the queue.',
  'chat.queueNext': 'You are next in the queue.',
  'chat.waitClosed': 'The team is not here at the moment. Nobody will answer you until they are back.',
  'chat.waitClosedNext': 'The team is not here at the moment. They will be back for you {when}. Nobody will answer you until then.',
  'chat.waitLeave': 'Your question is saved and waits for the team. You can close this page. Open it again later in the same browser to see the answer.',
  'chat.messages': 'Messages',
  'chat.input': 'Your message',
  'chat.inputHint': 'Press Enter to send the message. Press Shift and Enter to start a new line.',
  'chat.send': 'Send',
  'chat.attach': 'Attach a file',
  'chat.attachHint': 'Allowed: {types}, at most {size}.',
  'chat.transcript': 'Download the conversation as text',
  'chat.close': 'End conversation',
  'chat.newCase': 'New request',
  'chat.endSession': 'End session',
  'chat.typing': '{team} is typing …',
  'chat.typingTeam': 'The team is typing …',
  'chat.read': 'read',
  'chat.redacted': 'This message was deleted.',
  'chat.edited': '(edited)',
  'chat.pending': 'sending …',
  'chat.pendingRetry': 'not sent yet – trying again in {seconds} seconds',
  'chat.uploading': 'Sending file: {name}',
  'chat.you': 'You',
  'chat.team': 'Team',
  'chat.system': 'Note',
  'chat.attachment': 'Attachment: {name} ({size})',
  'chat.imageAlt': 'Image: {name}',
  'chat.staffJoined': 'A member of the {team} team is now here for you.',
  'chat.statusChanged': 'Status: {status}',
  'chat.connecting': 'Connecting …',
  'chat.disconnected': 'Connection lost – reconnecting …',
  'chat.reconnected': 'Connection restored.',
  'chat.sessionGone': 'Your session has expired or was ended. This conversation cannot be continued here.',
  'chat.empty': 'No messages yet.',

  'status.queued': 'waiting for the team',
  'status.active': 'in progress',
  'status.awaiting_citizen': 'waiting for your reply',
  'status.resolved': 'resolved',
  'status.closed': 'ended',
  'status.abandoned': 'ended because of inactivity',
  'status.transferred': 'passed to another office',
  'status.purged': 'deleted',
  'status.unknown': 'unknown',

  'notice.case_resolved': 'Your request has been resolved. Thank you!',
  'notice.case_closed': 'The team has ended the conversation. Thank you!',
  'notice.case_reopened': 'The conversation is open again. You can write again.',
  'notice.case_abandoned': 'The conversation was ended because nobody wrote for a long time.',
  'notice.resolved_case_closed': 'Your request was resolved. The conversation has now ended.',
  'notice.citizen_closed': 'You ended the conversation.',
  'notice.case_transferred': 'Your request was passed on to the {team} team. They will help you from now on.',
  'notice.submission_submitted': 'Your application has been sent. It is now being delivered to the responsible office.',
  'notice.submission_forwarded': 'Your application has been passed on. It is on its way to the responsible office.',
  'notice.submission_accepted': 'Your application has reached the responsible office. No decision has been made on it yet.',
  'notice.submission_rejected': 'The responsible office could not accept your application for technical reasons. This is not a decision on your application. Please ask here what to do next.',
  'chat.submission': 'Your application',
  'submission.submitted': 'sent',
  'submission.forwarded': 'passed on',
  'submission.accepted': 'received by the responsible office',
  'submission.rejected': 'not accepted',

  'closed.resolved': 'The team has marked your request as resolved. You can no longer write here.',
  'closed.closed': 'The conversation has ended. You can no longer write here.',
  'closed.abandoned': 'The conversation was ended because nobody wrote for a long time.',
  'closed.transferred': 'Your request was passed to another office.',
  'closed.purged': 'The conversation was deleted after the retention period.',
  'closed.generic': 'The conversation has ended. You can no longer write here.',
  'closed.transcriptHint': 'If you want to keep the conversation, download it now. It can be read in this browser for a short time only.',
  'closed.byYou': 'You have ended the conversation. This has also ended your session. Once you close or reload this page, the conversation can no longer be read in this browser.',
  'closed.endSessionHint': 'Are you using a shared or public computer? Then end the session. Afterwards the conversation can no longer be read here.',

  'dialog.closeTitle': 'End the conversation?',
  'dialog.closeText': 'Afterwards you can no longer write. Your session ends too: the conversation can then no longer be read in this browser. If you want to keep it, download it first.',
  'dialog.closeConfirm': 'Yes, end the conversation',
  'dialog.cancel': 'Cancel',
  'dialog.idleTitle': 'Are you still there?',
  'dialog.idleText': 'If you do not respond, the conversation will be ended {when}.',
  'dialog.stillHere': 'I am still here',

  'file.tooLarge': 'The file “{name}” is too large ({size}). At most {max} is allowed.',
  'file.badType': 'The file “{name}” has a format that is not accepted here. Allowed: {types}.',

  'error.bad_request': 'The request was incomplete or invalid. Please check what you entered.',
  'error.pow_invalid': 'The security check failed. Please send again.',
  'error.pow_expired': 'The security check has expired. Please send again.',
  'error.pow_replayed': 'The security check was already used. Please send again.',
  'error.unauthorized': 'Your session has expired. Please reload the page.',
  'error.csrf': 'The request was refused for security reasons. Please reload the page.',
  'error.not_found': 'This office or this conversation was not found.',
  'error.case_closed': 'The conversation has already ended. Your message was not sent.',
  'error.too_long': 'Your message is too long. Please shorten it to at most {max} characters.',
  'error.too_large': 'The file is too large. At most {max} is allowed.',
  'error.unsupported_type': 'This file format is not accepted. Allowed: {types}.',
  'error.rate_limited': 'Too many requests in a short time. Please wait {seconds} seconds.',
  'error.unavailable': 'The service cannot be reached right now. We will try again automatically.',
  'error.network': 'No connection to the server. We will try again automatically.',
  'error.unknown': 'Something went wrong. Please try again later.',
  'error.questionEmpty': 'Please write your question.',
  'error.questionTooLong': 'Your question is too long. Please shorten it to at most {max} characters.',
  'error.noWorker': 'Your browser cannot run the security check. Please use a current browser.',
  'error.boot': 'The chat could not be loaded. Please reload the page later.',
  'handover.service': 'Your request about: {service}',
  'handover.step': 'Step in the online service: {step}',
  'handover.checking': 'Checking the details from the online service …',
  'handover.refusedHeading': 'The link from the online service does not work',
  'handover.refusedAdvice': 'Please go back to the online service and choose "Help" there again. What you entered in the online service is not affected.',
  'handover.plainLink': 'Write without the details from the online service',
  'error.context_invalid': 'The link is not valid. It was not made by the online service or is incomplete.',
  'error.context_expired': 'The link has expired. Links from the online service are valid for a few minutes only.',
  'error.context_replayed': 'The link was already opened in another browser or window and is valid only once.',
  'error.context_unknown_service': 'The link comes from an online service this administration does not know.',

};

addTexts({ de, en });

// catalogs are the guest chat's own texts (without the kit's).
export const catalogs = Object.freeze({ de, en });

// The error codes of docs/guest-chat.md, plus the client's own 'network'.
export const ERROR_CODES = Object.freeze([
  'bad_request', 'pow_invalid', 'pow_expired', 'pow_replayed', 'unauthorized', 'csrf',
  'not_found', 'case_closed', 'too_long', 'too_large', 'unsupported_type', 'rate_limited',
  'unavailable', 'network',
  'context_invalid', 'context_expired', 'context_replayed', 'context_unknown_service',
]);

export const STATUSES = Object.freeze([
  'queued', 'active', 'awaiting_citizen', 'resolved', 'closed', 'abandoned', 'transferred', 'purged',
]);

// The statuses of the FIT-Connect submission a hand-over named
// (protocol.SubmissionStatus), in their order.
export const SUBMISSIONS = Object.freeze(['submitted', 'forwarded', 'accepted', 'rejected']);

// The kinds of the "notice" event (protocol.CaseNotices and
// protocol.SubmissionNotices): steps of the case and of the citizen's
// application, worded here in the citizen's language only.
export const NOTICES = Object.freeze([
  'case_resolved', 'case_closed', 'case_reopened', 'case_abandoned', 'resolved_case_closed', 'citizen_closed',
  'case_transferred', ...SUBMISSIONS.map((s) => `submission_${s}`),
]);

// submissionOf is the submission status a notice kind reports, or ''.
export function submissionOf(kind) {
  const status = typeof kind === 'string' && kind.startsWith('submission_') ? kind.slice('submission_'.length) : '';
  return SUBMISSIONS.includes(status) ? status : '';
}

// noticeText is the citizen's text for a notice kind, or '' for a kind
// this page does not know (a newer server): the page then skips it.
export function noticeText(kind, params) {
  return NOTICES.includes(kind) ? t(`notice.${kind}`, params) : '';
}

export function statusText(status) {
  return STATUSES.includes(status) ? t(`status.${status}`) : t('status.unknown');
}

// errorText gives the citizen's text for an error code from the API.
export function errorText(code, params) {
  return ERROR_CODES.includes(code) ? t(`error.${code}`, params) : t('error.unknown');
}
