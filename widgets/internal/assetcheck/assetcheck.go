// Package assetcheck holds the rules every widget's embedded web assets are
// tested against: a strict Content-Security-Policy, no markup built from
// data, nothing loaded from elsewhere. Each widget's tests (and the shared
// kit's) run CheckNoUnsafeCode on their assets; it is imported by tests
// only.
package assetcheck

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Rule is a pattern a served asset must not contain, and why.
type Rule struct {
	Pattern string
	Why     string
}

// Unsafe are the rules for every asset a browser loads.
var Unsafe = []Rule{
	{`\.innerHTML\b`, "data must go through textContent"},
	{`\.outerHTML\b`, "data must go through textContent"},
	{`insertAdjacentHTML`, "data must go through textContent"},
	{`document\.write`, "no document.write"},
	{`\beval\s*\(`, "CSP forbids eval"},
	{`new Function\s*\(`, "CSP forbids eval"},
	{`setAttribute\(\s*['"](on|style)`, "inline handler or style"},
	{`\.on(click|load|error|submit|input|keydown)\s*=\s*['"]`, "string event handler"},
	{`https?://`, "nothing may be loaded from elsewhere"},
	{`@import`, "no CSS imports"},
}

// svgNamespace is an SVG's namespace declaration: a name, not something
// loaded.
var svgNamespace = regexp.MustCompile(`xmlns(:\w+)?="[^"]*"`)

// CheckNoUnsafeCode fails t for every file of assets that matches one of
// Unsafe or of extra (rules of the caller's own assets).
func CheckNoUnsafeCode(t *testing.T, assets fs.FS, extra ...Rule) {
	t.Helper()
	rules := append(append([]Rule{}, Unsafe...), extra...)
	require.NoError(t, fs.WalkDir(assets, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets, name)
		if err != nil {
			return err
		}
		src := svgNamespace.ReplaceAllString(string(b), "")
		for _, r := range rules {
			assert.NotRegexp(t, r.Pattern, src, "%s: %s", name, r.Why)
		}
		return nil
	}))
}
