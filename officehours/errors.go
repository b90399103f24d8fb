package officehours

import "errors"

// ErrInvalidRange is returned (wrapped, with the offending text and the
// reason) by ParseRange when a string is not "HH:MM-HH:MM" with a valid
// start before a valid end. The caller should show the message to whoever
// wrote the value, e.g. as a config error.
var ErrInvalidRange = errors.New("invalid opening hours")

// ErrInvalidDate is returned (wrapped, with the offending text and the
// reason) by ParseDate and ParseDateRange when a string is not a real
// calendar date "YYYY-MM-DD", or a range "FROM..TO" whose end lies before its
// start. The caller should show the message to whoever wrote the value.
var ErrInvalidDate = errors.New("invalid date")
