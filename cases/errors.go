package cases

import "errors"

var (
	// ErrMissingOption is returned by New when a required option is unset.
	// It is a programming error.
	ErrMissingOption = errors.New("missing required option")
	// ErrIllegalTransition is returned when a case action does not apply to
	// the case's status. The message says why; show it to the person who
	// asked.
	ErrIllegalTransition = errors.New("illegal case transition")
	// ErrCaseNotOpen is returned when the citizen writes to a case that is
	// no longer open (or has no room yet). The channel should tell the
	// citizen the case has ended.
	ErrCaseNotOpen = errors.New("case is not open")
	// ErrSessionGone is returned by OpenForCitizen when the session
	// expired or its case no longer exists. The channel should start over.
	ErrSessionGone = errors.New("the session or its case is gone")
)

// errCaseChanged is shown when a case changed between reading and writing.
var errCaseChanged error = &staffError{words{"Der Fall wurde gerade geändert. Bitte versuchen Sie es noch einmal.",
	"The case just changed; please try again."}}

// staffError is an error whose text is the answer staff read: whole
// sentences, German and English.
type staffError struct{ text words }

func (e *staffError) Error() string { return e.text.String() }

// ErrNoStaffRoom is returned when a case cannot be announced because its
// department has no staff room yet (the reconciliation has not run or
// failed). Opening the case again after a reconciliation finishes it.
var ErrNoStaffRoom = errors.New("department has no staff room")

// ErrNotCaseRoom is returned by StaffCase and ApplyInRoom for a room that
// is no (longer a) case room. Tell the person it only works in a case room.
var ErrNotCaseRoom error = &staffError{words{"Das geht nur in einem Fallraum.", "This only works in a case room."}}

// ErrNotCaseStaff is returned by StaffCase and ApplyInRoom when the user is
// not on the team of the case's department. Refuse (403).
var ErrNotCaseStaff error = &staffError{words{"Nur das Team der Abteilung kann das.", "Only the department's team can do that."}}
