package bot

import "errors"

var (
	// ErrMissingOption is returned by New when a required option is unset.
	// It is a programming error.
	ErrMissingOption = errors.New("missing required option")
	// ErrBadCommand is returned by Registry.Register for an incomplete
	// declaration or a name that is taken. It is a programming error in
	// the capability that declares the command.
	ErrBadCommand = errors.New("bad command declaration")
)
