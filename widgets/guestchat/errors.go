package guestchat

import (
	"errors"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/httpapi"
)

// The guest API's own errcodes, beside httpapi's shared ones. Each is the
// key of a text of the page (error.<code> in web/assets/i18n.js), so a
// published code never changes (docs/guest-chat.md, "Errors").
const (
	codeCaseClosed  = "case_closed"  // 409: writing to a case that is no longer open
	codeCaseOpen    = "case_open"    // 409: a new session while the case is still open
	codeTooLong     = "too_long"     // 413: a question or message over max_message_length
	codePowInvalid  = "pow_invalid"  // 400: the challenge answer is wrong
	codePowExpired  = "pow_expired"  // 400: the challenge is too old
	codePowReplayed = "pow_replayed" // 400: the challenge was already used

	codeContextInvalid        = "context_invalid"         // 400: a hand-over context that does not verify
	codeContextExpired        = "context_expired"         // 400: a hand-over context past its exp
	codeContextReplayed       = "context_replayed"        // 409: a hand-over context another session used
	codeContextUnknownService = "context_unknown_service" // 400: a hand-over context of no configured service
)

// The answers of the guest API that always have the same words. Handlers
// write them with httpapi.WriteError; the page acts on the errcode.
var (
	// errUnauthorized: no session cookie, or an unknown or expired one. The
	// page starts over with POST session.
	errUnauthorized = httpapi.NewError(http.StatusUnauthorized, httpapi.CodeUnauthorized,
		"no valid session; open a new one with POST session")
	// errCSRF: a state-changing request without the session's CSRF token,
	// or from a foreign Origin. The page fetches the token again once.
	errCSRF = httpapi.NewError(http.StatusForbidden, httpapi.CodeCSRF,
		"missing or wrong X-Rathaus-CSRF header, or a foreign Origin")
	// errCaseClosed: the case takes no more messages; the page shows why.
	errCaseClosed = httpapi.NewError(http.StatusConflict, codeCaseClosed, "the case is no longer open")
	// errCaseOpen: {"new": true} while the session's case is open.
	errCaseOpen = httpapi.NewError(http.StatusConflict, codeCaseOpen, "close the open case first")
	// errUnavailable: the homeserver could not be reached; the page retries.
	errUnavailable = httpapi.Unavailable("the homeserver could not be reached; try again")
	// errBadTxnID: a txn_id not of the contract's form.
	errBadTxnID = httpapi.BadRequest("txn_id must be 8 to 64 of A-Z, a-z, 0-9, _ and -")

	errPowExpired  = httpapi.NewError(http.StatusBadRequest, codePowExpired, "the challenge expired; fetch a new one")
	errPowReplayed = httpapi.NewError(http.StatusBadRequest, codePowReplayed, "the challenge was already used")
	errPowInvalid  = httpapi.NewError(http.StatusBadRequest, codePowInvalid, "the challenge answer is not valid")

	errAttachmentsOff = httpapi.UnsupportedType("attachments are turned off")
	errTypeNotAllowed = httpapi.UnsupportedType("this file type is not allowed")
	errFileTooLarge   = httpapi.TooLarge("the file is too large")
)

// internal answers 500 and logs the cause, which the answer never carries.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	zerolog.Ctx(r.Context()).Error().Err(err).Str("path", r.Pattern).Msg("Guest chat request failed")
	httpapi.WriteError(w, httpapi.ErrInternal)
}

// unavailable answers 503 when the homeserver failed us.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	zerolog.Ctx(r.Context()).Warn().Err(err).Str("path", r.Pattern).Msg("Guest chat request could not reach the homeserver")
	httpapi.WriteError(w, errUnavailable)
}

// Refusals of a hand-over context, returned (wrapped) by HandOvers; the
// API answers each with its errcode and the page words it.
var (
	// ErrHandOverInvalid: malformed, a bad signature, a refused alg or a
	// foreign origin.
	ErrHandOverInvalid = errors.New("hand-over context invalid")
	// ErrHandOverExpired: the context's lifetime is over.
	ErrHandOverExpired = errors.New("hand-over context expired")
	// ErrHandOverReplayed: another session used the context.
	ErrHandOverReplayed = errors.New("hand-over context already used")
	// ErrHandOverUnknownService: the context names no configured service.
	ErrHandOverUnknownService = errors.New("hand-over context of an unknown service")
)

// handOverError is the API's answer to a refused context, or nil if err
// is not a refusal (then it is a fault).
func handOverError(err error) *httpapi.Error {
	switch {
	case errors.Is(err, ErrHandOverExpired):
		return httpapi.NewError(http.StatusBadRequest, codeContextExpired, "the hand-over context has expired")
	case errors.Is(err, ErrHandOverReplayed):
		return httpapi.NewError(http.StatusConflict, codeContextReplayed, "the hand-over context was used by another session")
	case errors.Is(err, ErrHandOverUnknownService):
		return httpapi.NewError(http.StatusBadRequest, codeContextUnknownService, "the hand-over context names no configured service")
	case errors.Is(err, ErrHandOverInvalid):
		return httpapi.NewError(http.StatusBadRequest, codeContextInvalid, "the hand-over context is not valid")
	}
	return nil
}

// ErrMissingOption is returned by New when a required option is unset. It
// is a programming error.
var ErrMissingOption = errors.New("guestchat: missing required option")
