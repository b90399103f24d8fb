package guestchat

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/departments"
	"github.com/rathaus-de/rathaus/protocol"
)

// listDirectory is a Directory with the given departments and authority.
type listDirectory struct {
	deps      []departments.Department
	authority departments.Authority
}

func (l listDirectory) Departments() []departments.Department { return l.deps }
func (l listDirectory) Authority() departments.Authority      { return l.authority }
func (l listDirectory) Department(depID protocol.DepartmentID) (departments.Department, bool) {
	for _, d := range l.deps {
		if d.ID == depID {
			return d, true
		}
	}
	return departments.Department{}, false
}
func (l listDirectory) DepartmentForService(string) (departments.Department, bool) {
	return departments.Department{}, false
}

func (l listDirectory) DepartmentForServiceIn(string, string) (departments.Department, bool) {
	return departments.Department{}, false
}

// demoheim is an authority with an open and a closed department; the
// closed one opens again on the day after tomorrow at 9:00 in Berlin.
func demoheim(t *testing.T, privacyURL string) listDirectory {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	now := time.Now().In(berlin)
	next := time.Date(now.Year(), now.Month(), now.Day()+2, 9, 0, 0, 0, berlin)
	return listDirectory{
		authority: departments.Authority{Name: "Stadt Demoheim", PrivacyURL: privacyURL},
		deps: []departments.Department{
			{ID: "bauamt", Name: "Bauamt", Description: "Bauanträge & <Lagepläne>", Open: true,
				OfficeHours: "Mo–Fr 08:00–12:00"},
			{ID: "standesamt", Name: "Standesamt", NextOpening: next, OfficeHours: "Mo–Do 09:00–12:00"},
		},
	}
}

func newIndexServer(t *testing.T, dir listDirectory, tweak func(*config.Config)) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.GuestChat.PublicURL = "https://chat.demoheim.example"
	if tweak != nil {
		tweak(cfg)
	}
	opts := testOptions(t, cfg)
	opts.Directory = dir
	s, err := New(opts)
	require.NoError(t, err)
	return s
}

// / and /chat/ list the departments with their state and a link to each
// chat, so a portal can link one address (issue 11, point 6).
func TestIndexListsDepartments(t *testing.T) {
	dir := demoheim(t, "https://demoheim.example/datenschutz")
	s := newIndexServer(t, dir, nil)
	next := dir.deps[1].NextOpening
	wantNext := openingText("de", next, time.Now())
	require.True(t, strings.HasPrefix(wantNext, "am ") || strings.HasPrefix(wantNext, "morgen "), wantNext)

	for _, target := range []string{"/", "/chat/", "/chat"} {
		t.Run(target, func(t *testing.T) {
			w := do(s, http.MethodGet, target, nil, "")
			require.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			assert.Contains(t, w.Header().Get("Content-Security-Policy"), "script-src 'self'")
			body := w.Body.String()
			for _, want := range []string{
				`<html lang="de">`,
				`<title>Chat mit der Verwaltung – Stadt Demoheim</title>`,
				`<h1>Chat mit der Verwaltung</h1>`,
				`<main id="main"`,
				`<nav class="lang-nav" aria-label="Sprache">`,
				`href="?lang=en" lang="en" hreflang="en">English</a>`,
				`<h2><a href="/chat/bauamt">Bauamt</a></h2>`,
				`<h2><a href="/chat/standesamt">Standesamt</a></h2>`,
				`Bauanträge &amp; &lt;Lagepläne&gt;`,
				`Jetzt geöffnet.`,
				`Zurzeit geschlossen. Wir öffnen wieder ` + wantNext + `.`,
				`Sprechzeiten: Mo–Fr 08:00–12:00`,
				`<a id="privacy-link" href="https://demoheim.example/datenschutz">Datenschutzerklärung</a>`,
			} {
				assert.Contains(t, body, want)
			}
			assert.Equal(t, 1, strings.Count(body, "<h1"))
			assert.Equal(t, 1, strings.Count(body, "Jetzt geöffnet."), "only the Bauamt is open")
			assert.NotContains(t, body, "<script", "the index works without script")
		})
	}
}

func TestIndexLanguage(t *testing.T) {
	dir := demoheim(t, "")
	s := newIndexServer(t, dir, func(c *config.Config) { c.GuestChat.AllowMissingPrivacyNotice = true })
	wantNext := openingText("en", dir.deps[1].NextOpening, time.Now())

	w := do(s, http.MethodGet, "/?lang=en", map[string]string{"Accept-Language": "de"}, "")
	require.Equal(t, http.StatusOK, w.Code)
	body := w.Body.String()
	for _, want := range []string{
		`<html lang="en">`,
		`<title>Chat with the administration – Stadt Demoheim</title>`,
		`<h1>Chat with the administration</h1>`,
		`href="?lang=de" lang="de" hreflang="de">Deutsch</a>`,
		// Chosen with ?lang=: the chat pages keep it.
		`<a href="/chat/bauamt?lang=en">Bauamt</a>`,
		`Open now.`,
		`Closed at the moment. We open again ` + wantNext + `.`,
		`Office hours: <span lang="de">Mo–Fr 08:00–12:00</span>`,
	} {
		assert.Contains(t, body, want)
	}
	assert.True(t, strings.HasPrefix(wantNext, "on ") || strings.HasPrefix(wantNext, "tomorrow "), wantNext)

	// From the browser's languages: the chat page chooses the same itself.
	w = do(s, http.MethodGet, "/chat/", map[string]string{"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}, "")
	body = w.Body.String()
	assert.Contains(t, body, `<html lang="en">`)
	assert.Contains(t, body, `<a href="/chat/bauamt">Bauamt</a>`)
	assert.Equal(t, "Accept-Language", w.Header().Get("Vary"))
}

// Without a privacy URL (only possible with the tests' opt-out) the index
// shows no privacy link at all, never one that goes nowhere.
func TestIndexWithoutPrivacyURLHasNoDeadLink(t *testing.T) {
	s := newIndexServer(t, demoheim(t, ""), func(c *config.Config) { c.GuestChat.AllowMissingPrivacyNotice = true })
	body := do(s, http.MethodGet, "/", nil, "").Body.String()
	assert.NotContains(t, body, "Datenschutz")
	assert.NotContains(t, body, "<footer")
	for _, m := range regexp.MustCompile(`<a\s[^>]*>`).FindAllString(body, -1) {
		assert.Regexp(t, `href="[^"#][^"]*"`, m, "every link has a target")
	}
}

func TestIndexWithoutDepartments(t *testing.T) {
	s := newIndexServer(t, listDirectory{authority: departments.Authority{Name: "Stadt Leerheim"}}, nil)
	w := do(s, http.MethodGet, "/", nil, "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "Zurzeit ist kein Amt per Chat erreichbar.")
	assert.NotContains(t, w.Body.String(), "<ul")
}

// A /chat link with an unknown service still answers 404: the index is
// for /chat without anything.
func TestUnknownServiceIsStillNotFound(t *testing.T) {
	s := newIndexServer(t, demoheim(t, "https://demoheim.example/datenschutz"), nil)
	w := do(s, http.MethodGet, "/chat?service=99999999999999", nil, "")
	assert.Equal(t, http.StatusNotFound, w.Code)
	w = do(s, http.MethodGet, "/nope", nil, "")
	assert.Equal(t, http.StatusNotFound, w.Code)
}

// guest_chat.privacy_page is served at /datenschutz, read on every request.
func TestPrivacyPage(t *testing.T) {
	s := newIndexServer(t, demoheim(t, ""), nil)
	w := do(s, http.MethodGet, config.PrivacyPagePath, nil, "")
	assert.Equal(t, http.StatusNotFound, w.Code, "no page configured")

	path := filepath.Join(t.TempDir(), "privacy.html")
	require.NoError(t, os.WriteFile(path, []byte("<!DOCTYPE html><title>Datenschutz</title>"), 0o600))
	s = newIndexServer(t, demoheim(t, ""), func(c *config.Config) { c.GuestChat.PrivacyPage = path })
	w = do(s, http.MethodGet, config.PrivacyPagePath, nil, "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'none'")
	assert.Equal(t, "<!DOCTYPE html><title>Datenschutz</title>", w.Body.String())

	require.NoError(t, os.WriteFile(path, []byte("<!DOCTYPE html><title>Neu</title>"), 0o600))
	assert.Contains(t, do(s, http.MethodGet, config.PrivacyPagePath, nil, "").Body.String(), "Neu")

	cfg := config.Default()
	cfg.GuestChat.PrivacyPage = filepath.Join(t.TempDir(), "missing.html")
	_, err := New(testOptions(t, cfg))
	require.Error(t, err, "a missing page is found at the start")
	assert.Contains(t, err.Error(), "guest_chat.privacy_page")
}
