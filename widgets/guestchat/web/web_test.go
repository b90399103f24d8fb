package web

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/widgets/internal/assetcheck"
	"github.com/rathaus-de/rathaus/widgets/internal/webkit"
)

func render(t *testing.T, d PageData) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Page.Execute(&buf, d))
	return buf.String()
}

func TestPageRendersBothLanguages(t *testing.T) {
	tests := []struct {
		name     string
		data     PageData
		contains []string
	}{
		{
			name: "german",
			data: PageData{Lang: "de", Department: "bauamt", DepartmentName: "Bauamt", AuthorityName: "Stadt Bad Beispielheim", AssetVersion: "v1"},
			contains: []string{
				`<html lang="de">`,
				`<title>Chat mit dem Team Bauamt – Stadt Bad Beispielheim</title>`,
				`data-department="bauamt"`, `data-lang="de"`, `data-service=""`,
				`<script type="module" src="/assets/app.js?v=v1"></script>`,
				`href="/assets/style.css?v=v1"`,
				`id="lang-switch" href="?lang=en" lang="en"`,
				`Dieser Chat braucht JavaScript`, `This chat needs JavaScript`,
				`<h1 id="page-heading">Chat mit dem Team Bauamt</h1>`,
			},
		},
		{
			name: "english with service",
			data: PageData{Lang: "en", Service: "99108008000000", DepartmentName: "Building Office", AssetVersion: "abc"},
			contains: []string{
				`<html lang="en">`,
				`<title>Chat with the Building Office team</title>`,
				`data-service="99108008000000"`, `data-lang="en"`, `data-department=""`,
				`src="/assets/app.js?v=abc"`,
				`id="lang-switch" href="?lang=de" lang="de"`,
				`<h1 id="page-heading">Chat with the Building Office team</h1>`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, tc.data)
			for _, want := range tc.contains {
				assert.Contains(t, out, want)
			}
			assert.Equal(t, 1, strings.Count(out, "<h1"), "exactly one h1")
			assert.Contains(t, out, "<main")
		})
	}
}

func TestPageEscapesServerValues(t *testing.T) {
	out := render(t, PageData{
		Lang: "de", Department: `x" onload="alert(1)`, DepartmentName: `<script>alert(1)</script>`,
		AuthorityName: `Stadt & "Land"`, AssetVersion: `1"><script>`,
	})
	assert.NotContains(t, out, `<script>alert(1)</script>`)
	assert.NotContains(t, out, `" onload="`)
	assert.NotContains(t, out, `1"><script>`)
	assert.Contains(t, out, `&lt;script&gt;alert(1)&lt;/script&gt;`)
}

// The ids the browser tests rely on (see the task and docs/guest-chat.md).
var hookIDs = []string{
	"entry", "entry-form", "name", "question", "submit", "pow-status", "dept-closed-notice",
	"privacy-link", "chat", "case-reference", "case-status", "queue-position", "messages",
	"typing-indicator", "connection-status", "message-input", "send", "attach-input",
	"transcript-link", "close-case", "close-dialog", "confirm-close", "closed-notice",
	"new-case", "idle-dialog", "still-here", "lang-switch", "error",
	"end-session", "close-dialog-transcript", "entry-session-ended",
}

func TestPageHasEveryHookOnce(t *testing.T) {
	out := render(t, PageData{Lang: "de", Department: "bauamt", AssetVersion: "1"})
	for _, id := range hookIDs {
		assert.Equal(t, 1, strings.Count(out, `id="`+id+`"`), "id %q", id)
	}
	// Every id in the page is unique, and every label points at a control.
	ids := map[string]int{}
	for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(out, -1) {
		ids[m[1]]++
	}
	for id, n := range ids {
		assert.Equal(t, 1, n, "id %q used %d times", id, n)
	}
	for _, m := range regexp.MustCompile(`<label for="([^"]+)"`).FindAllStringSubmatch(out, -1) {
		assert.Contains(t, ids, m[1], "label for=%q has no control", m[1])
	}
}

var (
	pageAssetRef = regexp.MustCompile(`(?:src|href)="/assets/([^"?]+)\?v=`)
	jsImport     = regexp.MustCompile(`(?m)(?:^import\s[^;]*?from\s*|^export\s[^;]*?from\s*|import\()\s*['"](\./[^'"]+)['"]`)
	jsURL        = regexp.MustCompile(`new URL\(\s*['"](\./[^'"]+)['"]\s*,\s*import\.meta\.url`)
)

// readAsset reads an asset as the server serves it: the page's own, or
// the kit's under kit/.
func readAsset(name string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(name, webkit.KitDir+"/"); ok {
		return fs.ReadFile(webkit.Assets, rest)
	}
	return fs.ReadFile(Assets, name)
}

func TestEveryReferencedAssetExists(t *testing.T) {
	out := render(t, PageData{Lang: "de", AssetVersion: "1"})
	refs := pageAssetRef.FindAllStringSubmatch(out, -1)
	require.Len(t, refs, 4, "the page loads app.js, the kit's base.css, style.css and the icon")

	seen := map[string]bool{}
	queue := []string{}
	for _, r := range refs {
		queue = append(queue, r[1])
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		b, err := readAsset(name)
		require.NoError(t, err, "asset %q is referenced but not embedded", name)
		if path.Ext(name) != ".js" {
			continue
		}
		for _, re := range []*regexp.Regexp{jsImport, jsURL} {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				queue = append(queue, path.Clean(path.Join(path.Dir(name), m[1])))
			}
		}
	}
	for _, want := range []string{"app.js", "api.js", "i18n.js", "pow.js", "sha256.js", "style.css",
		"kit/base.css", "kit/api.js", "kit/i18n.js", "kit/dom.js", "kit/dialog.js"} {
		assert.True(t, seen[want], "%s is reachable from the page", want)
	}
	for name := range seen {
		assert.False(t, strings.HasPrefix(name, ".."), "%s: no import leaves the assets", name)
	}

	// Nothing embedded is dead weight, and no test file is served.
	entries, err := fs.ReadDir(Assets, ".")
	require.NoError(t, err)
	for _, e := range entries {
		assert.True(t, seen[e.Name()], "asset %q is embedded but never loaded", e.Name())
		assert.NotContains(t, e.Name(), ".test.")
	}
}

func TestNoInlineScriptsStylesOrHandlers(t *testing.T) {
	for _, name := range []string{"page.html", "index.html"} {
		page, err := os.ReadFile(name)
		require.NoError(t, err)
		html := string(page)
		assert.NotRegexp(t, `(?i)\son[a-z]+\s*=`, html, "inline event handler in %s", name)
		assert.NotRegexp(t, `(?i)\sstyle\s*=`, html, "style attribute in %s (CSP style-src 'self')", name)
		assert.NotRegexp(t, `(?i)<style`, html, "<style> in %s", name)
		assert.NotRegexp(t, `(?i)javascript:`, html)
		for _, m := range regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(html, -1) {
			assert.Contains(t, m[1], `src="/assets/`, "every script is an external asset")
			assert.Empty(t, strings.TrimSpace(m[2]), "no inline script body")
		}
	}

	assetcheck.CheckNoUnsafeCode(t, Assets)
}

// TestNodeTests runs the JavaScript unit tests (SHA-256 vectors, the pow
// test vectors of widgets/guestchat/pow, the i18n catalogue, the outbox)
// with node. The modules import the kit as './kit/<file>', as it is
// served; the kit's node hooks resolve that to widgets/internal/webkit.
func TestNodeTests(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		// Never skipped: `make test` needs Node.js 20 for the browser tests
		// too, so a machine without it must fail loudly here.
		t.Fatalf("node is not installed, so the page's JavaScript tests cannot run; install Node.js 20 (see README): %v", err)
	}
	files, err := filepath.Glob(filepath.Join("assets", "*.test.mjs"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hooks, err := filepath.Abs(filepath.Join("..", "..", "internal", "webkit", "nodehooks.mjs"))
	require.NoError(t, err)
	require.FileExists(t, hooks)
	cmd := exec.CommandContext(ctx, node, append([]string{"--import", hooks, "--test"}, files...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "node --test failed:\n%s", out)
	assert.Contains(t, string(out), "# fail 0")
}
