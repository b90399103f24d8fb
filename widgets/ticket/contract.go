package ticket

import "github.com/rathaus-de/rathaus/tickets"

// The browser-facing contract of the ticket widget's API (docs/ozg.md,
// "Ticket widget"). Every path is below Prefix; every route but the page,
// its assets and the sign-in needs "Authorization: Bearer <session>".
//
//	POST api/v1/session           widgetauth.SignInRequest → widgetauth.SignInResponse
//	DELETE api/v1/session         → 204 (the page signs out when it is closed)
//	GET  api/v1/ticket            → TicketResponse
//	POST api/v1/status            StatusRequest → TicketResponse
//	POST api/v1/external-ref      ExternalRefRequest → TicketResponse
//	POST api/v1/document-request  DocumentRequest → DocumentResponse

// Prefix is where the widget is served on the public listener.
const Prefix = "/widgets/ticket/"

// TicketResponse is the ticket as the widget shows it, with the document
// templates staff may send.
type TicketResponse struct {
	Summary   *tickets.Summary   `json:"summary"`
	Templates []tickets.Template `json:"templates"`
}

// StatusRequest sets the case's status: "awaiting_citizen" (Rückfrage an
// Bürger:in) or "resolved" (erledigt).
type StatusRequest struct {
	Status tickets.Status `json:"status"`
}

// ExternalRefRequest links the number of the authority's own ticket: 1 to
// 64 characters, ASCII letters, digits and - _ . / : #.
type ExternalRefRequest struct {
	ExternalRef string `json:"external_ref"`
}

// DocumentRequest sends the citizen the request of a template (its id).
type DocumentRequest struct {
	Template string `json:"template"`
}

// DocumentResponse names the template that was sent.
type DocumentResponse struct {
	Template string `json:"template"`
}

// The errcodes of the widget's actions, beside widgetauth's and httpapi's.
const (
	// CodeNoTicket (404): the room's case has no OZG ticket.
	CodeNoTicket = "no_ticket"
	// CodeBadExternalRef (400): the external ticket number is not valid.
	CodeBadExternalRef = "bad_external_ref"
	// CodeUnknownTemplate (400), CodeUnknownStatus (400): not one of the
	// choices.
	CodeUnknownTemplate = "unknown_template"
	CodeUnknownStatus   = "unknown_status"
	// CodeIllegalTransition (409): the case's status does not allow this
	// (e.g. resolving a resolved case); reload and look.
	CodeIllegalTransition = "illegal_transition"
	// CodeCaseEnded (409): the case is no longer open.
	CodeCaseEnded = "case_ended"
)

// maxActionBody bounds an action's body.
const maxActionBody = 1 << 10
