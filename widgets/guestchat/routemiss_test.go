package guestchat

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A wrong method on a path that exists is 405 with Allow, not 404: under
// the API as {"errcode", "error"}, for the pages as the mux words it.
func TestWrongMethod(t *testing.T) {
	s := newTestServer(t, "https://chat.stadt.example")
	for _, tc := range []struct {
		method, target, allow string
	}{
		{http.MethodDelete, "/api/guest/v1/session", "GET, HEAD, POST"},
		{http.MethodPut, "/api/guest/v1/session", "GET, HEAD, POST"},
		{http.MethodPost, "/api/guest/v1/info", "GET, HEAD"},
		{http.MethodGet, "/api/guest/v1/challenge", "POST"},
		{http.MethodGet, "/api/guest/v1/cases", "POST"},
		{http.MethodPatch, "/api/guest/v1/cases/c1", "GET, HEAD"},
		{http.MethodPost, "/api/guest/v1/cases/c1/events", "GET, HEAD"},
		{http.MethodGet, "/api/guest/v1/cases/c1/messages", "POST"},
		{http.MethodGet, "/api/guest/v1/cases/c1/attachments", "POST"},
		{http.MethodPost, "/api/guest/v1/cases/c1/media/3", "GET, HEAD"},
		{http.MethodPost, "/api/guest/v1/cases/c1/transcript", "GET, HEAD"},
		{http.MethodGet, "/api/guest/v1/cases/c1/typing", "POST"},
		{http.MethodGet, "/api/guest/v1/cases/c1/read", "POST"},
		{http.MethodGet, "/api/guest/v1/cases/c1/alive", "POST"},
		{http.MethodDelete, "/api/guest/v1/cases/c1/close", "POST"},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			w := do(s, tc.method, tc.target, nil, "")
			require.Equal(t, http.StatusMethodNotAllowed, w.Code, w.Body.String())
			assert.Equal(t, tc.allow, w.Header().Get("Allow"))
			var got map[string]string
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got), w.Body.String())
			assert.Equal(t, map[string]string{"errcode": "method_not_allowed",
				"error": "method not allowed; the Allow header lists the methods this path takes"}, got)
			assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
		})
	}
	for _, target := range []string{"/", "/chat", "/chat/", "/chat/bauamt", "/assets/app.js", "/datenschutz"} {
		t.Run("POST "+target, func(t *testing.T) {
			w := do(s, http.MethodPost, target, nil, "")
			require.Equal(t, http.StatusMethodNotAllowed, w.Code, w.Body.String())
			assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"))
		})
	}
}

// What no route takes is 404: JSON under the API, the page otherwise.
func TestNoRoute(t *testing.T) {
	s := newTestServer(t, "https://chat.stadt.example")
	for _, target := range []string{"/api/guest/v1/nope", "/api/guest/v1/", "/api/guest/v1", "/api/guest/v1/cases/c1/nope"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			w := do(s, method, target, nil, "")
			require.Equal(t, http.StatusNotFound, w.Code, "%s %s", method, target)
			assert.JSONEq(t, `{"errcode":"not_found","error":"not found"}`, w.Body.String(), "%s %s", method, target)
			assert.Empty(t, w.Header().Get("Allow"))
		}
	}
	w := do(s, http.MethodGet, "/nope", nil, "")
	require.Equal(t, http.StatusNotFound, w.Code)
	assert.Contains(t, w.Body.String(), "Diesen Chat gibt es nicht")
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
}
