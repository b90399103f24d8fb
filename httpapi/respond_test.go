package httpapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/httpapi"
)

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		body       string
		retryAfter string
	}{
		{name: "plain", err: httpapi.NewError(http.StatusConflict, "case_closed", "the case is no longer open"),
			status: 409, body: `{"errcode":"case_closed","error":"the case is no longer open"}`},
		{name: "bad request", err: httpapi.BadRequest("question is required"),
			status: 400, body: `{"errcode":"bad_request","error":"question is required"}`},
		{name: "wrapped", err: fmt.Errorf("failed to open case: %w", httpapi.ErrNotFound),
			status: 404, body: `{"errcode":"not_found","error":"not found"}`},
		{name: "not an *Error is internal", err: errors.New("disk on fire"),
			status: 500, body: `{"errcode":"internal","error":"internal error"}`},
		{name: "nil is internal", err: nil,
			status: 500, body: `{"errcode":"internal","error":"internal error"}`},
		{name: "rate limited", err: httpapi.RateLimited(12 * time.Second),
			status: 429, body: `{"errcode":"rate_limited","error":"too many requests; try again in 12 s"}`, retryAfter: "12"},
		{name: "too large", err: httpapi.TooLarge("the file is too large"),
			status: 413, body: `{"errcode":"too_large","error":"the file is too large"}`},
		{name: "unsupported type", err: httpapi.UnsupportedType("no"),
			status: 415, body: `{"errcode":"unsupported_type","error":"no"}`},
		{name: "unavailable", err: httpapi.Unavailable("try again"),
			status: 503, body: `{"errcode":"unavailable","error":"try again"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			httpapi.WriteError(w, tc.err)
			assert.Equal(t, tc.status, w.Code)
			assert.JSONEq(t, tc.body, w.Body.String())
			assert.Equal(t, tc.body+"\n", w.Body.String(), "errcode first, one line")
			assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			assert.Equal(t, tc.retryAfter, w.Header().Get("Retry-After"))
		})
	}
}

// Retry-After is whole seconds, rounded up and never 0: "0" would bring
// the client straight back.
func TestRetryAfterRounding(t *testing.T) {
	tests := []struct {
		retry   time.Duration
		header  string
		message string
	}{
		{retry: time.Nanosecond, header: "1", message: "try again in 1 s"},
		{retry: 500 * time.Millisecond, header: "1", message: "try again in 1 s"},
		{retry: time.Second, header: "1", message: "try again in 1 s"},
		{retry: time.Second + time.Millisecond, header: "2", message: "try again in 2 s"},
		{retry: 59900 * time.Millisecond, header: "60", message: "try again in 60 s"},
		{retry: time.Hour, header: "3600", message: "try again in 3600 s"},
		{retry: 0, header: "", message: "try again in 1 s"},
		{retry: -time.Second, header: "", message: "try again in 1 s"},
	}
	for _, tc := range tests {
		t.Run(tc.retry.String(), func(t *testing.T) {
			e := httpapi.RateLimited(tc.retry)
			assert.Contains(t, e.Message, tc.message)
			w := httptest.NewRecorder()
			httpapi.WriteError(w, e)
			assert.Equal(t, http.StatusTooManyRequests, w.Code)
			assert.Equal(t, tc.header, w.Header().Get("Retry-After"))
		})
	}
	// Any error may carry a Retry-After, a 503 as well.
	e := httpapi.Unavailable("down")
	e.RetryAfter = 2500 * time.Millisecond
	w := httptest.NewRecorder()
	httpapi.WriteError(w, e)
	assert.Equal(t, "3", w.Header().Get("Retry-After"))
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	httpapi.WriteJSON(w, http.StatusCreated, map[string]string{"id": "x"})
	assert.Equal(t, http.StatusCreated, w.Code)
	assert.Equal(t, "{\"id\":\"x\"}\n", w.Body.String())
	assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
}

func TestErrorIsAnError(t *testing.T) {
	var err error = httpapi.BadRequest("name is longer than 64 characters")
	assert.Equal(t, "bad_request: name is longer than 64 characters", err.Error())
	var e *httpapi.Error
	require.ErrorAs(t, fmt.Errorf("failed: %w", err), &e)
	assert.Equal(t, http.StatusBadRequest, e.Status)
	assert.ErrorIs(t, fmt.Errorf("failed: %w", httpapi.ErrNotFound), httpapi.ErrNotFound)
}
