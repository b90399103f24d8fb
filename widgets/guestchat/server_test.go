package guestchat

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// fakeDirectory knows one department.
type fakeDirectory struct{}

func (fakeDirectory) Department(depID protocol.DepartmentID) (departments.Department, bool) {
	if depID != "bauamt" {
		return departments.Department{}, false
	}
	return departments.Department{ID: "bauamt", Name: "Bauamt", Open: true}, true
}

func (d fakeDirectory) Departments() []departments.Department {
	b, _ := d.Department("bauamt")
	return []departments.Department{b}
}

func (d fakeDirectory) DepartmentForService(key string) (departments.Department, bool) {
	if key != "99108008000000" {
		return departments.Department{}, false
	}
	return d.Department("bauamt")
}

func (d fakeDirectory) DepartmentForServiceIn(key, _ string) (departments.Department, bool) {
	return d.DepartmentForService(key)
}

func (fakeDirectory) Authority() departments.Authority {
	return departments.Authority{Name: "Stadt Prüfheim"}
}

// noCases has no cases and does nothing in Matrix.
type noCases struct{}

func (noCases) OpenForCitizen(context.Context, cases.CitizenOpen) (*cases.Case, bool, error) {
	return nil, false, departments.ErrUnknownDepartment
}
func (noCases) Case(context.Context, protocol.CaseID) (*cases.Case, error)             { return nil, nil }
func (noCases) QueuePosition(context.Context, protocol.CaseID) (int, error)            { return 0, nil }
func (noCases) TouchCitizen(context.Context, protocol.CaseID, time.Time) error         { return nil }
func (noCases) SendCitizenMessage(context.Context, *cases.Case, string, string) error  { return nil }
func (noCases) SendCitizenFile(context.Context, *cases.Case, string, cases.File) error { return nil }
func (noCases) CloseByCitizen(context.Context, *cases.Case) error                      { return nil }
func (noCases) CitizenTyping(context.Context, *cases.Case, bool) error                 { return nil }
func (noCases) CitizenRead(context.Context, *cases.Case, id.EventID) error             { return nil }
func (noCases) Subscribe(func(cases.Update)) func()                                    { return func() {} }
func (noCases) Timeline(context.Context, protocol.CaseID, int64, int) ([]cases.TimelineEntry, error) {
	return nil, nil
}
func (noCases) TimelineEntry(context.Context, protocol.CaseID, int64) (*cases.TimelineEntry, error) {
	return nil, nil
}
func (noCases) Media(context.Context, id.ContentURIString) (io.ReadCloser, error) {
	return nil, io.EOF
}

// memSessions keeps sessions in memory.
type memSessions struct {
	mu       sync.Mutex
	sessions map[string]Session
}

func (m *memSessions) CreateSession(_ context.Context, tokenHash string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sessions == nil {
		m.sessions = map[string]Session{}
	}
	m.sessions[tokenHash] = Session{TokenHash: tokenHash, LastSeen: time.Now(), ExpiresAt: expires}
	return nil
}

func (m *memSessions) Session(_ context.Context, tokenHash string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gs, ok := m.sessions[tokenHash]
	if !ok || time.Now().After(gs.ExpiresAt) {
		return nil, nil
	}
	return &gs, nil
}

func (m *memSessions) TouchSession(_ context.Context, tokenHash string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gs, ok := m.sessions[tokenHash]; ok {
		gs.LastSeen, gs.ExpiresAt = time.Now(), expires
		m.sessions[tokenHash] = gs
	}
	return nil
}

func (m *memSessions) DeleteSession(_ context.Context, tokenHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, tokenHash)
	return nil
}

// testOptions are the options of a guest chat with the fakes above and a
// real database for spent challenges.
func testOptions(t *testing.T, cfg *config.Config) Options {
	t.Helper()
	return Options{Config: func() *config.Config { return cfg }, Secret: []byte("0123456789abcdef0123456789abcdef"),
		Directory: fakeDirectory{}, Cases: noCases{}, Sessions: &memSessions{}, Spent: openTestStore(t),
		Log: zerolog.Nop(), Version: "test"}
}

func openTestStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Type: store.TypeSQLite,
		URI: filepath.Join(t.TempDir(), "rathaus.db"), Log: zerolog.Nop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newTestServer(t *testing.T, publicURL string, embed ...string) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.GuestChat.PublicURL = publicURL
	cfg.GuestChat.EmbedOrigins = embed
	s, err := New(testOptions(t, cfg))
	require.NoError(t, err)
	return s
}

func do(s *Server, method, target string, header map[string]string, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(context.Background(), method, target, strings.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// On https the cookie is __Host- prefixed and Secure; on loopback http it
// cannot be.
func TestSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		url, prefix string
		secure      bool
	}{
		{"https://chat.stadt.example", "__Host-rathaus_guest=", true},
		{"http://127.0.0.1:29332", "rathaus_guest=", false},
	} {
		s := newTestServer(t, tc.url)
		w := do(s, http.MethodPost, "/api/guest/v1/session", map[string]string{"Content-Type": "application/json"}, "{}")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		cookie := w.Header().Get("Set-Cookie")
		assert.True(t, strings.HasPrefix(cookie, tc.prefix), cookie)
		assert.Equal(t, tc.secure, strings.Contains(cookie, "; Secure"), cookie)
		assert.Contains(t, cookie, "HttpOnly")
		assert.Contains(t, cookie, "SameSite=Strict")
		assert.Contains(t, cookie, "Path=/")
		assert.NotContains(t, cookie, "Domain=")
	}
}

// The page may be framed only by the configured origins.
func TestEmbeddingAllowList(t *testing.T) {
	closed := newTestServer(t, "https://chat.stadt.example")
	w := do(closed, http.MethodGet, "/chat/bauamt", nil, "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'")
	// The older header says the same, for browsers without CSP level 2.
	for _, target := range []string{"/chat/bauamt", "/", "/api/guest/v1/session", "/assets/app.js", "/nope"} {
		w = do(closed, http.MethodGet, target, nil, "")
		assert.Equal(t, "DENY", w.Header().Get("X-Frame-Options"), target)
	}

	open := newTestServer(t, "https://chat.stadt.example", "https://portal.stadt.example", "https://service.stadt.example")
	w = do(open, http.MethodGet, "/chat/bauamt", nil, "")
	// X-Frame-Options cannot list the portals; DENY would break them in
	// browsers that only know X-Frame-Options.
	_, sent := w.Header()["X-Frame-Options"]
	assert.False(t, sent, "X-Frame-Options with an allow list")
	csp := w.Header().Get("Content-Security-Policy")
	assert.Contains(t, csp, "frame-ancestors https://portal.stadt.example https://service.stadt.example")
	assert.Contains(t, csp, "script-src 'self'")
	assert.NotContains(t, csp, "unsafe")
	assert.Contains(t, w.Body.String(), `<html lang="de">`)
}

func TestPageLanguageAndRouting(t *testing.T) {
	s := newTestServer(t, "https://chat.stadt.example")
	for _, tc := range []struct{ target, accept, want string }{
		{"/chat/bauamt", "", "de"},
		{"/chat/bauamt", "en-GB,en;q=0.9,de;q=0.5", "en"},
		{"/chat/bauamt", "fr-FR,de;q=0.8,en;q=0.7", "de"},
		{"/chat/bauamt?lang=en", "de", "en"},
		{"/chat/bauamt?lang=de", "en", "de"},
	} {
		w := do(s, http.MethodGet, tc.target, map[string]string{"Accept-Language": tc.accept}, "")
		require.Equal(t, http.StatusOK, w.Code, tc.target)
		assert.Contains(t, w.Body.String(), `<html lang="`+tc.want+`">`, "%s with %q", tc.target, tc.accept)
	}
	w := do(s, http.MethodGet, "/chat?service=99108008000000&lang=en", nil, "")
	assert.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, "/chat/bauamt?lang=en&service=99108008000000", w.Header().Get("Location"))
	w = do(s, http.MethodGet, "/chat/nope", nil, "")
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Contains(t, w.Body.String(), "Diesen Chat gibt es nicht")
	w = do(s, http.MethodGet, "/assets/app.js", nil, "")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Header().Get("Content-Type"), "javascript")
	assert.NotEmpty(t, w.Header().Get("ETag"))
	w = do(s, http.MethodGet, "/assets/app.test.mjs", nil, "")
	assert.Equal(t, http.StatusNotFound, w.Code)
	w = do(s, http.MethodGet, "/assets/kit/api.js", nil, "")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Header().Get("Content-Type"), "javascript")
	assert.Equal(t, "no-cache", w.Header().Get("Cache-Control"))
	assert.NotEmpty(t, w.Header().Get("ETag"))
	w = do(s, http.MethodGet, "/assets/kit/api.test.mjs", nil, "")
	assert.Equal(t, http.StatusNotFound, w.Code)
}

// The headers are built with httpapi.CSP now; they must be what the page
// has always been served with, byte for byte.
func TestContentSecurityPolicyIsUnchanged(t *testing.T) {
	const base = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
		"worker-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors "
	for _, tc := range []struct {
		name  string
		embed []string
		want  string
	}{
		{name: "not embeddable", want: base + "'none'"},
		{name: "one portal", embed: []string{"https://portal.stadt.example"}, want: base + "https://portal.stadt.example"},
		{name: "two portals", embed: []string{"https://portal.stadt.example", "https://service.stadt.example"},
			want: base + "https://portal.stadt.example https://service.stadt.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, "https://chat.stadt.example", tc.embed...)
			for _, target := range []string{"/chat/bauamt", "/assets/app.js", "/api/guest/v1/session", "/api/guest/v1/nope"} {
				w := do(s, http.MethodGet, target, nil, "")
				assert.Equal(t, tc.want, w.Header().Get("Content-Security-Policy"), target)
			}
		})
	}
	assert.Equal(t, "default-src 'none'; sandbox", mediaCSP)
}

// CSRF tokens are HMACs, so a page keeps using its token across a restart
// and an upgrade: the derivation (now in httpapi) must not change.
func TestCSRFTokenDerivationIsUnchanged(t *testing.T) {
	s := newTestServer(t, "https://chat.stadt.example")
	assert.Equal(t, "PsITBvHMUrHr9khXsFHf9vysdr3FsGyA5LnimeC967w", s.csrf.Token(hashToken("x")))
}

func TestNewRefusesBadTrustedProxies(t *testing.T) {
	cfg := config.Default()
	cfg.GuestChat.PublicURL = "https://chat.stadt.example"
	cfg.GuestChat.TrustedProxies = []string{"10.0.0.1", "proxy.stadt.example"}
	_, err := New(testOptions(t, cfg))
	require.ErrorIs(t, err, httpapi.ErrInvalidTrustedProxy)
	assert.Contains(t, err.Error(), `"proxy.stadt.example"`)
}

// Error answers are {"errcode", "error"} (httpapi) with the guest API's
// codes, which are the page's i18n keys.
func TestErrorAnswers(t *testing.T) {
	s := newTestServer(t, "https://chat.stadt.example")
	jsonType := map[string]string{"Content-Type": "application/json"}
	for _, tc := range []struct {
		name, method, target string
		header               map[string]string
		body                 string
		status               int
		errcode              string
	}{
		{name: "unknown API path", method: http.MethodGet, target: "/api/guest/v1/nope", status: 404, errcode: "not_found"},
		{name: "unknown department", method: http.MethodGet, target: "/api/guest/v1/info?department=nope", status: 404, errcode: "not_found"},
		{name: "no session", method: http.MethodGet, target: "/api/guest/v1/cases/x", status: 401, errcode: "unauthorized"},
		{name: "foreign origin", method: http.MethodPost, target: "/api/guest/v1/session",
			header: map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, body: "{}", status: 403, errcode: "csrf"},
		{name: "not JSON", method: http.MethodPost, target: "/api/guest/v1/session",
			header: map[string]string{"Content-Type": "text/plain"}, body: "{}", status: 415, errcode: "bad_request"},
		{name: "invalid JSON", method: http.MethodPost, target: "/api/guest/v1/session", header: jsonType, body: "{", status: 400, errcode: "bad_request"},
		{name: "trailing data", method: http.MethodPost, target: "/api/guest/v1/session", header: jsonType, body: "{}{}", status: 400, errcode: "bad_request"},
		{name: "body over 256 KiB", method: http.MethodPost, target: "/api/guest/v1/session", header: jsonType,
			body: `{"x":"` + strings.Repeat("a", 256<<10) + `"}`, status: 413, errcode: "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := do(s, tc.method, tc.target, tc.header, tc.body)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			var got map[string]string
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
			assert.Equal(t, tc.errcode, got["errcode"])
			assert.NotEmpty(t, got["error"])
			assert.Len(t, got, 2, "errcode and error only")
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		})
	}
}
