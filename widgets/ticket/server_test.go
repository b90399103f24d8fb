package ticket

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice/openid"
	"github.com/rathaus-de/rathaus/tickets"
	"github.com/rathaus-de/rathaus/widgets/internal/assetcheck"
)

// refusingVerifier stands in for the OpenID check where no request gets
// that far; the sign-in itself is tested against real homeservers in
// widgetauth and in cmd/rathaus's browser test.
type refusingVerifier struct{}

func (refusingVerifier) Verify(context.Context, string, string) (id.UserID, error) {
	return "", openid.ErrInvalidToken
}

func newTestServer(t *testing.T) *Server {
	t.Helper()
	bot, err := mautrix.NewClient("http://127.0.0.1:1", "@rathaus:rathaus.test", "token")
	require.NoError(t, err)
	s, err := New(Options{Tickets: &tickets.Service{}, Verifier: refusingVerifier{}, Bot: bot,
		IsAppserviceUser: func(id.UserID) bool { return false }, Version: "test", Log: zerolog.Nop()})
	require.NoError(t, err)
	return s
}

// answer is what the server answered a request.
type answer struct {
	StatusCode int
	Header     http.Header
	Body       string
}

func get(t *testing.T, h http.Handler, method, path, body string) answer {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return answer{StatusCode: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
}

// The page may be framed by any client (Element's origin is not known)
// and does nothing else; everything else may not be framed at all.
func TestHeaders(t *testing.T) {
	s := newTestServer(t)
	resp := get(t, s, http.MethodGet, Prefix+"?widgetId=x&roomId=!r:rathaus.test&lang=de", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "+
		"form-action 'none'; base-uri 'none'; frame-ancestors * vector:", resp.Header.Get("Content-Security-Policy"))
	assert.Empty(t, resp.Header.Get("X-Frame-Options"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	assert.Contains(t, resp.Body, `<html lang="de">`)
	assert.NotContains(t, resp.Body, "{{version}}")

	for _, l := range []string{"en", "en-GB", "en_US"} {
		assert.Contains(t, get(t, s, http.MethodGet, Prefix+"?lang="+l, "").Body, `<html lang="en">`, l)
	}
	assert.Contains(t, get(t, s, http.MethodGet, Prefix+"?lang=fr", "").Body, `<html lang="de">`, "German unless English")

	resp = get(t, s, http.MethodGet, Prefix+"assets/app.js", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "default-src 'none'; frame-ancestors 'none'", resp.Header.Get("Content-Security-Policy"))
	assert.Equal(t, http.StatusOK, get(t, s, http.MethodGet, Prefix+"assets/kit/dom.js", "").StatusCode)
	assert.Equal(t, http.StatusNotFound, get(t, s, http.MethodGet, Prefix+"assets/nothing.js", "").StatusCode)
}

// Without a session every action is 401; a token its homeserver does not
// know is 401 too.
func TestActionsNeedASession(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"api/v1/status", "api/v1/external-ref", "api/v1/document-request"} {
		assert.Equal(t, http.StatusUnauthorized, get(t, s, http.MethodPost, Prefix+path, `{}`).StatusCode, path)
	}
	assert.Equal(t, http.StatusUnauthorized, get(t, s, http.MethodGet, Prefix+"api/v1/ticket", "").StatusCode)
	resp := get(t, s, http.MethodPost, Prefix+"api/v1/session",
		`{"access_token":"abc","matrix_server_name":"rathaus.test","room_id":"!r:rathaus.test"}`)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// Each refusal of package tickets has its errcode.
func TestErrorCodes(t *testing.T) {
	s := newTestServer(t)
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{tickets.ErrNoTicket, http.StatusNotFound, CodeNoTicket},
		{tickets.ErrBadExternalRef, http.StatusBadRequest, CodeBadExternalRef},
		{tickets.ErrUnknownTemplate, http.StatusBadRequest, CodeUnknownTemplate},
		{tickets.ErrUnknownStatus, http.StatusBadRequest, CodeUnknownStatus},
		{tickets.ErrCaseEnded, http.StatusConflict, CodeCaseEnded},
		{tickets.ErrNotHandling, http.StatusForbidden, "forbidden"},
		{errors.New("database down"), http.StatusServiceUnavailable, "unavailable"},
	} {
		rec := httptest.NewRecorder()
		s.writeError(rec, httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", nil), tc.err)
		assert.Equal(t, tc.status, rec.Code, tc.err.Error())
		assert.Contains(t, rec.Body.String(), `"errcode":"`+tc.code+`"`, tc.err.Error())
	}
}

// The page is held to the rules of every rathaus page; it imports only
// its own modules and the kit.
func TestNoUnsafeCode(t *testing.T) {
	web, err := fs.Sub(webFiles, "web")
	require.NoError(t, err)
	assetcheck.CheckNoUnsafeCode(t, web, assetcheck.Rule{Pattern: `from\s*['"](?:\.\./|/)`, Why: "imports stay below assets/"})
}

// What is embedded is what the page loads, never a test.
func TestEmbeddedFiles(t *testing.T) {
	var names []string
	require.NoError(t, fs.WalkDir(webFiles, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, name)
		}
		return err
	}))
	assert.Equal(t, []string{"web/assets/app.js", "web/assets/texts.js", "web/assets/ticket.css", "web/index.html"}, names)
}
