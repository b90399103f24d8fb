package appservice

import "errors"

var (
	// ErrMissingOption is returned by constructors when a required option is
	// not set. It is a programming error; fix the caller.
	ErrMissingOption = errors.New("missing required option")
	// ErrPermanent wraps a handler error that retrying cannot fix (a
	// malformed event, a refused request). The dispatcher parks the event at
	// once instead of retrying it.
	ErrPermanent = errors.New("permanent failure")
)
