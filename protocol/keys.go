package protocol

// Keys rathaus adds to the content of the events it sends, so that it,
// its widgets and a federated peer can recognise them.
const (
	// TxnIDKey carries the Matrix transaction id of every event rathaus
	// sends, so that after a crash rathaus can recognise its own event in
	// the room (see appservice.Sender).
	TxnIDKey = "de.rathaus.txn_id"
	// GuestTxnKey carries the citizen's client transaction id in the
	// content of their messages, so the guest chat can match its pending
	// message to the event.
	GuestTxnKey = "de.rathaus.guest_txn"
	// NoticeKindKey marks the bot's notices whose meaning the guest chat
	// shows in its own words, in the citizen's language.
	NoticeKindKey = "de.rathaus.notice"
	// NoticeTeamKey carries the name of the department a notice names
	// (NoticeCaseTransferred: the department the case went to).
	NoticeTeamKey = "de.rathaus.notice_team"
	// AnnouncedCaseKey carries the case reference in the bot's
	// announcement of a waiting case in a staff room, so that a reply to
	// the announcement can claim the case without naming it.
	AnnouncedCaseKey = "de.rathaus.announced_case"
)

// NoticeTicketSummary is the NoticeKindKey of the bot's summary of an
// OZG ticket, the first notice in a case room opened by a hand-over. It
// is for staff; the guest chat does not show it.
const NoticeTicketSummary = "ticket_summary"

// NoticeCaseworkerJoined is the NoticeKindKey of the notice that a
// caseworker is now there for the citizen.
const NoticeCaseworkerJoined = "caseworker_joined"

// The NoticeKindKeys of the bot's notices about a case's course. Matrix
// clients show the notice's body (German and English); the guest chat
// shows the citizen its own text for the kind, in the citizen's language
// only.
const (
	NoticeCaseResolved       = "case_resolved"
	NoticeCaseClosed         = "case_closed"
	NoticeCaseReopened       = "case_reopened"
	NoticeCaseAbandoned      = "case_abandoned"
	NoticeResolvedCaseClosed = "resolved_case_closed"
	NoticeCitizenClosed      = "citizen_closed"
	NoticeCaseTransferred    = "case_transferred"
)

// CaseNotices are the notice kinds of a case's course, for the guest chat
// and its tests.
var CaseNotices = []string{NoticeCaseResolved, NoticeCaseClosed, NoticeCaseReopened, NoticeCaseAbandoned,
	NoticeResolvedCaseClosed, NoticeCitizenClosed, NoticeCaseTransferred}

// NoticeDocumentRequest is the NoticeKindKey of the bot's request to the
// citizen for documents (a fixed template, package tickets). The guest
// chat shows its body, which names the document in German and English;
// NoticeDocumentKey carries the template's id.
const NoticeDocumentRequest = "document_request"

// NoticeDocumentKey carries the id of a document request's template.
const NoticeDocumentKey = "de.rathaus.document"

// The NoticeKindKeys of the bot's notices about a case's video call: lines
// in the case room's timeline for staff (who started, admitted, denied,
// removed, ended; never media, never content). The citizen's page shows
// its own call state instead, so the guest chat skips them.
const (
	NoticeVideoStarted  = "video_started"
	NoticeVideoWaiting  = "video_waiting"
	NoticeVideoAdmitted = "video_admitted"
	NoticeVideoDenied   = "video_denied"
	NoticeVideoRemoved  = "video_removed"
	NoticeVideoEnded    = "video_ended"
)

// VideoNotices are the notice kinds of a video call.
var VideoNotices = []string{NoticeVideoStarted, NoticeVideoWaiting, NoticeVideoAdmitted, NoticeVideoDenied,
	NoticeVideoRemoved, NoticeVideoEnded}
