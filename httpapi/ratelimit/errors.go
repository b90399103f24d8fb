package ratelimit

import "errors"

// ErrInvalidOptions is returned (wrapped, with every problem found) by
// Options.Validate and NewSet. It is a configuration or programming error;
// config validation should call Options.Validate so New never panics.
var ErrInvalidOptions = errors.New("invalid rate limit options")
