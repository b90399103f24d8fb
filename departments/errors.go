package departments

import "errors"

var (
	// ErrMissingOption is returned by New when a required option is unset.
	// It is a programming error.
	ErrMissingOption = errors.New("missing required option")
	// ErrUnknownDepartment is returned for a department id that is not in
	// the running config. Callers should answer "not found".
	ErrUnknownDepartment = errors.New("unknown department")
)
