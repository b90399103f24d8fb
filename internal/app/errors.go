package app

import "errors"

// ErrMissingOption is returned by New when a required option is unset. It
// is a programming error.
var ErrMissingOption = errors.New("missing required option")
