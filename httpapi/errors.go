package httpapi

import (
	"errors"
	"net/http"
)

// ErrInvalidTrustedProxy is returned (wrapped, once per bad entry, joined) by
// ParseTrustedProxies for an entry that is neither an address nor a CIDR
// range. It is a configuration error: config validation should have caught
// it, so the caller refuses to start.
var ErrInvalidTrustedProxy = errors.New("invalid trusted proxy")

// ErrInvalidOrigin is returned (wrapped, with the value) by ParseOrigin for
// a URL without scheme and host. A configuration error: refuse to start.
var ErrInvalidOrigin = errors.New("invalid origin")

// ErrWeakKey is returned by NewCSRF for a key shorter than MinCSRFKeyBytes.
// A programming error: derive the key with HMAC-SHA256 from a long secret.
var ErrWeakKey = errors.New("key too short")

// The answers below are predefined because every API gives them with the
// same words. Handlers write them with WriteError; do not modify them.
var (
	// ErrNotFound answers a request for something that does not exist, or
	// that the caller must not learn exists (another session's case).
	ErrNotFound = &Error{Status: http.StatusNotFound, ErrCode: CodeNotFound, Message: "not found"}
	// ErrMethodNotAllowed answers a request for a path that exists, with a
	// method it does not take. The caller sets the Allow header first.
	ErrMethodNotAllowed = &Error{Status: http.StatusMethodNotAllowed, ErrCode: CodeMethodNotAllowed,
		Message: "method not allowed; the Allow header lists the methods this path takes"}
	// ErrInternal answers a request that failed on our side. The handler
	// logs the cause; the answer never carries it.
	ErrInternal = &Error{Status: http.StatusInternalServerError, ErrCode: CodeInternal, Message: "internal error"}
	// ErrNotJSON is DecodeJSON's answer to a body whose Content-Type is not
	// application/json. A cross-site HTML form cannot send that type, so
	// insisting on it is part of the CSRF defence. Its errcode is
	// bad_request, not unsupported_type: the guest chat's page reserves
	// unsupported_type for a refused file.
	ErrNotJSON = &Error{Status: http.StatusUnsupportedMediaType, ErrCode: CodeBadRequest, Message: "Content-Type must be application/json"}
)

// ErrInvalidProxyHeader is returned (wrapped) by TrustedProxies.WithHeader
// for a header other than X-Forwarded-For or Forwarded.
var ErrInvalidProxyHeader = errors.New("invalid proxy header")
