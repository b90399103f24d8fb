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

// ErrHSTokenMismatch is returned by WaitForHomeserver (Ping) when the
// homeserver reached rathaus with another hs_token than appservice.hs_token:
// its registration file is not rathaus's. Fatal at start: no transaction
// would ever be accepted.
var ErrHSTokenMismatch = errors.New("homeserver uses another hs_token")

// ErrASTokenUnknown is returned by EnsureBot when the homeserver does not
// know appservice.as_token: it has no (or another) registration of rathaus.
var ErrASTokenUnknown = errors.New("homeserver does not know the as_token")
