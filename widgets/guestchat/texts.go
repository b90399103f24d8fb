package guestchat

import (
	"strings"

	"github.com/rathaus-de/rathaus/protocol"
)

// pageTexts are the texts the transcript shares with the page, under the
// page's keys (web/assets/i18n.js), so that a status or a notice reads the
// same live, after a reload and in the transcript.
// TestTranscriptTextsMatchThePage keeps the two in step.
var pageTexts = map[string]map[string]string{
	"de": {
		"chat.you":           "Sie",
		"chat.system":        "Hinweis",
		"chat.redacted":      "Diese Nachricht wurde gelöscht.",
		"chat.edited":        "(bearbeitet)",
		"chat.staffJoined":   "Ein Mitglied des Teams {team} ist jetzt für Sie da.",
		"chat.statusChanged": "Status: {status}",

		"status.queued":           "wartet auf das Team",
		"status.active":           "in Bearbeitung",
		"status.awaiting_citizen": "wartet auf Ihre Antwort",
		"status.resolved":         "erledigt",
		"status.closed":           "beendet",
		"status.abandoned":        "wegen Inaktivität beendet",
		"status.transferred":      "an eine andere Stelle abgegeben",
		"status.purged":           "gelöscht",
		"status.unknown":          "unbekannt",

		"notice.case_resolved":        "Ihr Anliegen ist erledigt. Vielen Dank!",
		"notice.case_closed":          "Das Team hat das Gespräch beendet. Vielen Dank!",
		"notice.case_reopened":        "Das Gespräch ist wieder offen. Sie können wieder schreiben.",
		"notice.case_abandoned":       "Das Gespräch wurde beendet, weil längere Zeit niemand geschrieben hat.",
		"notice.resolved_case_closed": "Ihr Anliegen war erledigt. Das Gespräch ist jetzt beendet.",
		"notice.citizen_closed":       "Sie haben das Gespräch beendet.",
		"notice.case_transferred":     "Ihr Anliegen wurde an das Team {team} weitergegeben. Es betreut Sie ab jetzt.",

		"notice.submission_submitted": "Ihr Antrag ist abgeschickt. Er wird jetzt an die zuständige Stelle übermittelt.",
		"notice.submission_forwarded": "Ihr Antrag wurde weitergeleitet. Er ist auf dem Weg zur zuständigen Stelle.",
		"notice.submission_accepted":  "Ihr Antrag ist bei der zuständigen Stelle angekommen. Entschieden ist darüber noch nicht.",
		"notice.submission_rejected":  "Die zuständige Stelle konnte Ihren Antrag aus technischen Gründen nicht annehmen. Das ist keine Entscheidung über Ihren Antrag. Bitte fragen Sie hier, wie es weitergeht.",
	},
	"en": {
		"chat.you":           "You",
		"chat.system":        "Note",
		"chat.redacted":      "This message was deleted.",
		"chat.edited":        "(edited)",
		"chat.staffJoined":   "A member of the {team} team is now here for you.",
		"chat.statusChanged": "Status: {status}",

		"status.queued":           "waiting for the team",
		"status.active":           "in progress",
		"status.awaiting_citizen": "waiting for your reply",
		"status.resolved":         "resolved",
		"status.closed":           "ended",
		"status.abandoned":        "ended because of inactivity",
		"status.transferred":      "passed to another office",
		"status.purged":           "deleted",
		"status.unknown":          "unknown",

		"notice.case_resolved":        "Your request has been resolved. Thank you!",
		"notice.case_closed":          "The team has ended the conversation. Thank you!",
		"notice.case_reopened":        "The conversation is open again. You can write again.",
		"notice.case_abandoned":       "The conversation was ended because nobody wrote for a long time.",
		"notice.resolved_case_closed": "Your request was resolved. The conversation has now ended.",
		"notice.citizen_closed":       "You ended the conversation.",
		"notice.case_transferred":     "Your request was passed on to the {team} team. They will help you from now on.",

		"notice.submission_submitted": "Your application has been sent. It is now being delivered to the responsible office.",
		"notice.submission_forwarded": "Your application has been passed on. It is on its way to the responsible office.",
		"notice.submission_accepted":  "Your application has reached the responsible office. No decision has been made on it yet.",
		"notice.submission_rejected":  "The responsible office could not accept your application for technical reasons. This is not a decision on your application. Please ask here what to do next.",
	},
}

// pageText is the text under key in lang (German if lang is unknown) with
// its {placeholders} filled from params.
func pageText(lang, key string, params ...string) string {
	texts, ok := pageTexts[lang]
	if !ok {
		texts = pageTexts["de"]
	}
	s := texts[key]
	for i := 0; i+1 < len(params); i += 2 {
		s = strings.ReplaceAll(s, "{"+params[i]+"}", params[i+1])
	}
	return s
}

// statusText is the citizen's word for a case status.
func statusText(lang string, status protocol.CaseStatus) string {
	if !status.Valid() {
		return pageText(lang, "status.unknown")
	}
	return pageText(lang, "status."+string(status))
}
