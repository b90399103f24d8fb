package bridge

import "errors"

var (
	// ErrMissingOption is returned by New when a required option is unset.
	// It is a programming error.
	ErrMissingOption = errors.New("missing required option")
	// ErrHomeserverUnreachable is returned by Start when the homeserver did
	// not answer before the start-up deadline. Check homeserver.url.
	ErrHomeserverUnreachable = errors.New("homeserver unreachable")
)

// ErrUnknownDepartment is returned for a department id that is not in the
// current config. Callers should answer "not found".
var ErrUnknownDepartment = errors.New("unknown department")

// ErrIllegalTransition is returned when a case action does not apply to
// the case's status. The message says why; show it to the person who
// asked.
var ErrIllegalTransition = errors.New("illegal case transition")
