package widgetauth

import (
	"errors"
	"net/http"

	"github.com/rathaus-de/rathaus/httpapi"
)

// ErrMissingOption is returned (wrapped, naming the options) by New when a
// required option is missing or invalid. A programming error in the
// composition root: refuse to start.
var ErrMissingOption = errors.New("widgetauth: missing or invalid option")

// The errcodes of widget sign-in, beside httpapi's shared ones (400
// bad_request, 401 unauthorized, 429 rate_limited, 503 unavailable). A
// widget page keys its texts on them; a published code never changes its
// meaning.
const (
	// CodeNotMember (403): the user is not joined to the room.
	CodeNotMember = "not_member"
	// CodeForbidden (403): the user is joined but may not do this (power
	// level, department), is one of rathaus's own users (a citizen ghost),
	// or the homeserver vouched for a user of another server.
	CodeForbidden = "forbidden"
	// CodeServerNotAllowed (403): the user's homeserver is at an address
	// rathaus may not contact (the operator must allow its network).
	CodeServerNotAllowed = "server_not_allowed"
	// CodeHomeserver (502): the user's homeserver could not be reached or
	// answered against the spec; the widget may retry later.
	CodeHomeserver = "homeserver_error"
)

// The answers of this package. Handlers write them with httpapi.WriteError.
var (
	// errNoSession: no bearer token, or an unknown or expired one. The
	// widget signs in again (get_openid, then POST the sign-in).
	errNoSession = httpapi.NewError(http.StatusUnauthorized, httpapi.CodeUnauthorized,
		"no valid session; sign in again with a new OpenID token")
	// errTokenRefused: the homeserver does not know the OpenID token (or
	// it is malformed). The widget asks its client for a new one.
	errTokenRefused = httpapi.NewError(http.StatusUnauthorized, httpapi.CodeUnauthorized,
		"the OpenID token was not accepted by its homeserver")
	errNotMember = httpapi.NewError(http.StatusForbidden, CodeNotMember,
		"you are not a member of this room")
	errForbidden = httpapi.NewError(http.StatusForbidden, CodeForbidden,
		"you may not use this widget in this room")
	errServerNotAllowed = httpapi.NewError(http.StatusForbidden, CodeServerNotAllowed,
		"your homeserver is at an address rathaus may not contact")
	errHomeserver = httpapi.NewError(http.StatusBadGateway, CodeHomeserver,
		"your homeserver could not be asked about the OpenID token; try again later")
	// errUnavailable: the room's homeserver (our own) could not be asked
	// about the membership.
	errUnavailable = httpapi.Unavailable("the room's membership could not be checked; try again")
)
