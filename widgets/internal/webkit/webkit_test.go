package webkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/widgets/internal/assetcheck"
)

// TestNodeTests runs the kit's JavaScript unit tests (the fetch wrapper and
// its retry rules, the i18n core) with node.
func TestNodeTests(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		// Never skipped: `make test` needs Node.js 20 for the browser tests
		// too, so a machine without it must fail loudly here.
		t.Fatalf("node is not installed, so the kit's JavaScript tests cannot run; install Node.js 20 (see README): %v", err)
	}
	files, err := filepath.Glob("*.test.mjs")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, append([]string{"--test"}, files...)...).CombinedOutput()
	require.NoError(t, err, "node --test failed:\n%s", out)
	assert.Contains(t, string(out), "# fail 0")
}

// What is embedded is what pages load: the modules and base.css, never a
// test or the node hooks.
func TestEmbeddedFiles(t *testing.T) {
	var names []string
	require.NoError(t, fs.WalkDir(Assets, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, name)
		}
		return err
	}))
	sort.Strings(names)
	assert.Equal(t, []string{"api.js", "base.css", "devices.js", "dialog.js", "dom.js", "i18n.js", "lkcall.js", "matrixlogin.js",
		"rtc.js", "vendor/LICENSE.livekit-client", "vendor/livekit-client.umd.js", "widgetapi.js", "widgetsession.js"}, names)
}

// The vendored livekit-client is npm's file byte for byte
// (vendor/README.md): a change of it is deliberate.
func TestVendoredLiveKitClient(t *testing.T) {
	data, err := fs.ReadFile(Assets, "vendor/livekit-client.umd.js")
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	assert.Equal(t, "fb646f2260d84f91238d0a2dc10726c456631d6a26c7cafc43cfee5959b4d31d", hex.EncodeToString(sum[:]),
		"vendor/livekit-client.umd.js is not livekit-client 2.23.0's dist/livekit-client.umd.js")
	readme, err := os.ReadFile("vendor/README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), hex.EncodeToString(sum[:]), "vendor/README.md names the file's hash")
}

// ownCode is the kit without vendor/ (third-party code, checked by hash).
func ownCode(t *testing.T) fs.FS {
	t.Helper()
	own := fstest.MapFS{}
	require.NoError(t, fs.WalkDir(Assets, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(name, "vendor/") {
			return err
		}
		data, err := fs.ReadFile(Assets, name)
		own[name] = &fstest.MapFile{Data: data}
		return err
	}))
	return own
}

// The kit is held to the pages' rules: strict CSP, no markup from data,
// nothing loaded from elsewhere, and no import out of the kit.
func TestNoUnsafeCode(t *testing.T) {
	assetcheck.CheckNoUnsafeCode(t, ownCode(t), assetcheck.Rule{Pattern: `from\s*['"](?:\.\./|/)`,
		Why: "the kit imports only itself ('./…'): it is served under each widget's assets"})
}

func TestAssetServer(t *testing.T) {
	own := fstest.MapFS{"app.js": {Data: []byte("import './kit/dom.js';")}, "style.css": {Data: []byte("body{}")}}
	a := NewAssetServer(own, "v1")
	assert.Regexp(t, `^v1-[0-9a-f]{8}$`, a.Version())
	assert.Equal(t, a.Version(), NewAssetServer(own, "v1").Version(), "the same files give the same version")
	changed := fstest.MapFS{"app.js": {Data: []byte("import './kit/dom.js'; //")}, "style.css": own["style.css"]}
	assert.NotEqual(t, a.Version(), NewAssetServer(changed, "v1").Version())

	get := func(path string, header ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/assets/"+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		http.StripPrefix("/assets/", a).ServeHTTP(w, r)
		return w
	}
	for _, tc := range []struct {
		path, body, contentType string
	}{
		{path: "app.js", body: "import './kit/dom.js';", contentType: "javascript"},
		{path: "kit/dom.js", body: "export const $", contentType: "javascript"},
		{path: "kit/base.css", body: ":root", contentType: "text/css"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := get(tc.path)
			require.Equal(t, http.StatusOK, w.Code)
			assert.Contains(t, w.Body.String(), tc.body)
			assert.Contains(t, w.Header().Get("Content-Type"), tc.contentType)
			assert.Equal(t, "no-cache", w.Header().Get("Cache-Control"))
			tag := w.Header().Get("ETag")
			assert.Regexp(t, `^"[0-9a-f]{16}"$`, tag)
			again := get(tc.path, "If-None-Match", tag)
			assert.Equal(t, http.StatusNotModified, again.Code, "revalidation is cheap")
		})
	}
	for _, path := range []string{"", "kit/", "kit", "nope.js", "kit/nope.js", "kit/api.test.mjs", "kit/nodehooks.mjs", "dom.js", "../webkit.go"} {
		assert.Equal(t, http.StatusNotFound, get(path).Code, path)
	}
	assert.NotEqual(t, get("app.js").Header().Get("ETag"), get("style.css").Header().Get("ETag"))
}
