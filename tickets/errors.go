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
)
