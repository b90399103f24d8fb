package guestchat

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"
)

// apiError is an error answer of the API: an HTTP status, a stable code the
// page translates, and an English message for developers.
type apiError struct {
	Status     int           `json:"-"`
	Code       string        `json:"code"`
	Message    string        `json:"message"`
	RetryAfter time.Duration `json:"-"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errBadRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

var (
	errUnauthorized = &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "no valid session; open a new one with POST session"}
	errCSRF         = &apiError{Status: http.StatusForbidden, Code: "csrf", Message: "missing or wrong X-Rathaus-CSRF header, or a foreign Origin"}
	errNotFound     = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "not found"}
	errCaseClosed   = &apiError{Status: http.StatusConflict, Code: "case_closed", Message: "the case is no longer open"}
	errUnavailable  = &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the homeserver could not be reached; try again"}
	errContentType  = &apiError{Status: http.StatusUnsupportedMediaType, Code: "bad_request", Message: "Content-Type must be application/json"}
)

func errRateLimited(retry time.Duration) *apiError {
	secs := int(math.Ceil(retry.Seconds()))
	return &apiError{Status: http.StatusTooManyRequests, Code: "rate_limited", RetryAfter: retry,
		Message: fmt.Sprintf("too many requests; try again in %d s", max(secs, 1))}
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(max(int(math.Ceil(e.RetryAfter.Seconds())), 1)))
	}
	writeJSON(w, e.Status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
