package video

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

type noVerifier struct{}

func (noVerifier) Verify(context.Context, string, string) (id.UserID, error) {
	return "", context.Canceled
}

func newTestServer(t *testing.T, homeserver string) (*Server, error) {
	t.Helper()
	bot, err := mautrix.NewClient("http://127.0.0.1:9", "@bot:pruefheim.de", "")
	require.NoError(t, err)
	return New(Options{Calls: (*callsStub)(nil), Verifier: noVerifier{}, Bot: bot,
		IsAppserviceUser: func(id.UserID) bool { return false }, HomeserverURL: homeserver, Version: "test"})
}

// callsStub satisfies Calls for tests that never reach an action.
type callsStub struct{ Calls }

// TestSignInOutsideWidgetHost: the page learns where to sign in, and its
// policy lets it connect there and nowhere else; without a homeserver
// URL for browsers, it learns that it must be opened as a widget.
func TestSignInOutsideWidgetHost(t *testing.T) {
	get := func(s *Server, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), http.MethodGet, Prefix+path, nil))
		return w
	}

	s, err := newTestServer(t, "https://matrix.pruefheim.de/")
	require.NoError(t, err)
	w := get(s, "api/v1/signin")
	require.Equal(t, http.StatusOK, w.Code)
	var info SignInInfo
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &info))
	assert.Equal(t, "https://matrix.pruefheim.de", info.HomeserverURL)
	page := get(s, "")
	require.Equal(t, http.StatusOK, page.Code)
	assert.Contains(t, page.Header().Get("Content-Security-Policy"), "connect-src 'self' https://matrix.pruefheim.de;")

	s, err = newTestServer(t, "")
	require.NoError(t, err)
	w = get(s, "api/v1/signin")
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Contains(t, get(s, "").Header().Get("Content-Security-Policy"), "connect-src 'self';")

	_, err = newTestServer(t, "matrix.pruefheim.de")
	assert.Error(t, err, "not a URL a browser can reach")
}
