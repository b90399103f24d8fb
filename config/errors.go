package config

import (
	"errors"
	"strings"
)

// ErrEmptyConfig is returned by Parse and Load when the file holds no YAML
// document (empty, only comments, or an explicit null). The caller should
// tell the operator to start from `rathaus example-config`.
var ErrEmptyConfig = errors.New("config file is empty")

// ErrNotMapping is returned by Parse and Load when the top level of the file
// is not a YAML mapping (for example a list or a bare string).
var ErrNotMapping = errors.New("config file is not a YAML mapping of keys")

// ErrInvalidToken is returned by SetTokens when a token would not pass
// Validate (too short, non-printable characters, or both tokens equal). The
// caller generated bad tokens; nothing was written.
var ErrInvalidToken = errors.New("invalid appservice token")

// FieldError is one problem with one configuration key.
type FieldError struct {
	// Key is the dotted path of the key, e.g. "appservice.bot.localpart".
	Key string
	// Message says what is wrong and, where it helps, how to fix it.
	Message string
}

// Error returns "key: message".
func (e FieldError) Error() string {
	if e.Key == "" {
		return e.Message
	}
	return e.Key + ": " + e.Message
}

// ValidationErrors is every problem found in one configuration, in the order
// they were found: decoding problems (unknown keys, wrong types) in file
// order first, then validation problems in schema order.
//
// Parse and Validate return it as an error; use errors.As to get the list.
type ValidationErrors []FieldError

// Error returns one problem per line.
func (ve ValidationErrors) Error() string {
	lines := make([]string, len(ve))
	for i, fe := range ve {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Keys returns the dotted keys of all problems, in order, with repeats.
func (ve ValidationErrors) Keys() []string {
	keys := make([]string, len(ve))
	for i, fe := range ve {
		keys[i] = fe.Key
	}
	return keys
}

// Has reports whether some problem concerns key.
func (ve ValidationErrors) Has(key string) bool {
	for _, fe := range ve {
		if fe.Key == key {
			return true
		}
	}
	return false
}

// errOrNil returns ve as an error, or a true nil interface when it is empty,
// so that callers can compare the result with nil.
func (ve ValidationErrors) errOrNil() error {
	if len(ve) == 0 {
		return nil
	}
	return ve
}

// add appends one problem.
func (ve *ValidationErrors) add(key, message string) {
	*ve = append(*ve, FieldError{Key: key, Message: message})
}
