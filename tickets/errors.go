package tickets

import "errors"

var (
	// ErrMissingOption is returned by New when a required option is unset.
	// It is a programming error.
	ErrMissingOption = errors.New("missing required option")
	// ErrNoRoom is returned by ReportSubmissionStatus when the ticket's
	// case has no room yet (it is being opened). The callback is answered
	// 503, so the sender tries again later.
	ErrNoRoom = errors.New("the ticket's case has no room")
	// ErrBadStatus is returned by ReportSubmissionStatus for a status that
	// is not a FIT-Connect submission status; the caller's request is bad.
	ErrBadStatus = errors.New("not a submission status")
	// ErrNoTicket is returned by the actions in a case room whose case came
	// without an OZG ticket. Tell staff (the widget answers 404).
	ErrNoTicket = errors.New("the case has no ticket")
	// ErrBadExternalRef is returned by LinkExternalRef for a number that is
	// empty, longer than MaxExternalRef or has characters other than
	// letters, digits and - _ . / : #. Ask for another (400).
	ErrBadExternalRef = errors.New("invalid external ticket number")
	// ErrUnknownTemplate is returned by RequestDocuments for a template id
	// that is not one of Templates. Show the list (400).
	ErrUnknownTemplate = errors.New("unknown document request template")
	// ErrUnknownStatus is returned by ParseStatus for a word that names
	// no ticket status staff may set. Show the choices (400).
	ErrUnknownStatus = errors.New("unknown ticket status")
	// ErrNotHandling is returned by every action when the actor is on the
	// department's team but not joined to the case room with power level
	// StaffPowerLevel (has not claimed the case). Refuse (403).
	ErrNotHandling = errors.New("not handling this case")
	// ErrCaseEnded is returned by RequestDocuments when the case is no
	// longer open: the citizen would never read the request (409).
	ErrCaseEnded = errors.New("the case has ended")
)
