package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// The errcodes every API shares. They are rathaus's own stable codes, not
// Matrix M_ codes: pages use them as keys of their translated texts, and
// they are not part of the Matrix namespace. An API adds its own (the guest
// chat has case_closed, pow_invalid, …); a code, once published, never
// changes its meaning.
const (
	CodeBadRequest      = "bad_request"      // 400 (and 415 from DecodeJSON)
	CodeUnauthorized    = "unauthorized"     // 401
	CodeCSRF            = "csrf"             // 403: missing or wrong CSRF token, or a foreign Origin
	CodeNotFound        = "not_found"        // 404
	CodeTooLarge        = "too_large"        // 413
	CodeUnsupportedType = "unsupported_type" // 415
	CodeRateLimited     = "rate_limited"     // 429, with Retry-After
	CodeInternal        = "internal"         // 500
	CodeUnavailable     = "unavailable"      // 503: a dependency is down; safe to retry
)

// CodeMethodNotAllowed is 405, with an Allow header: the path exists, but
// not for this method.
const CodeMethodNotAllowed = "method_not_allowed"

// Error is an error answer of an HTTP API: the status, a stable errcode the
// client can act on (and a page translates), and an English message for
// developers. WriteError writes it as {"errcode": ..., "error": ...}.
type Error struct {
	// Status is the HTTP status code.
	Status int `json:"-"`
	// ErrCode is the stable, machine-readable code.
	ErrCode string `json:"errcode"`
	// Message explains the error to a developer; pages show their own text
	// for ErrCode instead.
	Message string `json:"error"`
	// RetryAfter, if positive, is sent as a Retry-After header in whole
	// seconds, rounded up.
	RetryAfter time.Duration `json:"-"`
}

// Error implements error.
func (e *Error) Error() string { return e.ErrCode + ": " + e.Message }

// NewError returns an answer with the given status, errcode and message.
func NewError(status int, errcode, message string) *Error {
	return &Error{Status: status, ErrCode: errcode, Message: message}
}

// BadRequest is 400 bad_request: a missing or invalid field.
func BadRequest(message string) *Error {
	return NewError(http.StatusBadRequest, CodeBadRequest, message)
}

// TooLarge is 413 too_large: a body or file over its limit.
func TooLarge(message string) *Error {
	return NewError(http.StatusRequestEntityTooLarge, CodeTooLarge, message)
}

// UnsupportedType is 415 unsupported_type: a file of a type that is not
// accepted.
func UnsupportedType(message string) *Error {
	return NewError(http.StatusUnsupportedMediaType, CodeUnsupportedType, message)
}

// Unavailable is 503 unavailable: something the API depends on (the
// homeserver) could not be reached; the client may retry.
func Unavailable(message string) *Error {
	return NewError(http.StatusServiceUnavailable, CodeUnavailable, message)
}

// RateLimited is 429 rate_limited with a Retry-After of retryAfter.
func RateLimited(retryAfter time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, ErrCode: CodeRateLimited, RetryAfter: retryAfter,
		Message: fmt.Sprintf("too many requests; try again in %d s", retrySeconds(retryAfter))}
}

// retrySeconds is d in whole seconds, rounded up, at least 1: a client told
// "0" would come back at once.
func retrySeconds(d time.Duration) int {
	return max(int(math.Ceil(d.Seconds())), 1)
}

// WriteError writes err as the JSON error answer. An err that is not (and
// does not wrap) an *Error is written as ErrInternal; the caller logs it.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) || e == nil {
		e = ErrInternal
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(e.RetryAfter)))
	}
	WriteJSON(w, e.Status, e)
}

// WriteJSON writes v as a JSON answer with the status. Answers of rathaus's
// APIs are about one session or case, so none may be cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
