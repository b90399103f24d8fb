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
	// ErrTxnIDReused is returned by Sender.Send when a transaction id was
	// recorded for another sender or room. It is a programming error: derive
	// transaction ids from sender, room, cause and purpose.
	ErrTxnIDReused = errors.New("transaction id reused for a different send")
)

// ErrHomeserverUnreachable is returned by WaitForHomeserver when the
// homeserver did not answer in time. Check homeserver.url.
var ErrHomeserverUnreachable = errors.New("homeserver unreachable")
