package video

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/widgets/internal/assetcheck"
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

// The page is held to the rules of every rathaus page; it imports only
// its own modules and the kit.
func TestNoUnsafeCode(t *testing.T) {
	web, err := fs.Sub(webFiles, "web")
	require.NoError(t, err)
	assetcheck.CheckNoUnsafeCode(t, web, assetcheck.Rule{Pattern: `from\s*['"](?:\.\./|/)`, Why: "imports stay below assets/"})
}

// Every text the page shows exists in German and English, and every
// data-i18n key of the page has a text.
func TestTextsInBothLanguages(t *testing.T) {
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is needed (README)")
	script := `import { texts } from './web/assets/texts.js';
const de = Object.keys(texts.de).sort(), en = Object.keys(texts.en).sort();
const empty = [...de.filter((k) => !texts.de[k].trim()), ...en.filter((k) => !texts.en[k].trim())];
console.log(JSON.stringify({ onlyDe: de.filter((k) => !(k in texts.en)), onlyEn: en.filter((k) => !(k in texts.de)), empty, keys: de }));`
	out, err := exec.CommandContext(t.Context(), node, "--input-type=module", "-e", script).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var got struct {
		OnlyDe, OnlyEn, Empty, Keys []string
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	assert.Empty(t, got.OnlyDe, "German only")
	assert.Empty(t, got.OnlyEn, "English only")
	assert.Empty(t, got.Empty, "empty texts")
	page, err := webFiles.ReadFile("web/index.html")
	require.NoError(t, err)
	for _, m := range regexp.MustCompile(`data-i18n(?:-label)?="([^"]+)"`).FindAllStringSubmatch(string(page), -1) {
		assert.Contains(t, got.Keys, m[1], "index.html uses %s", m[1])
	}
}
