package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/rathaus-de/rathaus"
)

// writeTemp writes content to a fresh config file with mode 0644 (so the
// test sees SetTokens tighten it) and returns its path.
func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// readTokens decodes just the two tokens, without validating the file.
func readTokens(t *testing.T, path string) (string, string) {
	t.Helper()
	var c Config
	require.NoError(t, yaml.Unmarshal([]byte(readFile(t, path)), &c))
	return c.AppService.ASToken, c.AppService.HSToken
}

func TestSetTokensOnExampleChangesOnlyTheTokenLines(t *testing.T) {
	example := string(rathaus.ExampleConfig)
	path := writeTemp(t, example)

	require.NoError(t, SetTokens(path, testASToken, testHSToken))

	want := strings.Replace(example, "as_token: generate\n", "as_token: "+testASToken+"\n", 1)
	want = strings.Replace(want, "hs_token: generate\n", "hs_token: "+testHSToken+"\n", 1)
	assert.Equal(t, want, readFile(t, path), "comments, blank lines and other values must survive byte for byte")

	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file may be left behind")

	// The tokens are no longer reported; the other placeholders still are.
	_, err = Load(path)
	var ve ValidationErrors
	require.ErrorAs(t, err, &ve)
	assert.ElementsMatch(t, append([]string{"homeserver.url", "homeserver.server_name", "authority.name", "authority.privacy_url"}, exampleStaffKeys...), ve.Keys())

	// Rotating the tokens again works on the already rewritten file.
	rotatedAS, rotatedHS := strings.Repeat("r", 40), strings.Repeat("s", 40)
	require.NoError(t, SetTokens(path, rotatedAS, rotatedHS))
	as, hs := readTokens(t, path)
	assert.Equal(t, rotatedAS, as)
	assert.Equal(t, rotatedHS, hs)
}

func TestSetTokensLayouts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// want is the exact expected output; empty means "check the tokens
		// and that the comments survived".
		want string
	}{
		{
			name: "double quoted",
			in:   "appservice:\n  as_token: \"generate\" # set by rathaus\n  hs_token: \"gen\\\"erate\"\n",
			want: "appservice:\n  as_token: \"" + testASToken + "\" # set by rathaus\n  hs_token: \"" + testHSToken + "\"\n",
		},
		{
			name: "single quoted",
			in:   "appservice:\n  as_token: 'gene''rate'\n  hs_token: 'generate'\n",
			want: "appservice:\n  as_token: '" + testASToken + "'\n  hs_token: '" + testHSToken + "'\n",
		},
		{
			name: "flow mapping with non-ASCII before the tokens",
			in:   "# Zuständig: IT-Referat\nappservice: {id: rathaus, note: \"Bürgerbüro\", as_token: generate, hs_token: generate}\n",
			want: "# Zuständig: IT-Referat\nappservice: {id: rathaus, note: \"Bürgerbüro\", as_token: " + testASToken + ", hs_token: " + testHSToken + "}\n",
		},
		{
			name: "keys missing",
			in:   "# Kommentar oben\nappservice:\n  # the id\n  id: rathaus\nlogging:\n  level: debug # laut\n",
		},
		{
			name: "section missing",
			in:   "# Kommentar oben\nlogging:\n  level: debug # laut\n",
		},
		{
			name: "section null",
			in:   "# Kommentar oben\nappservice:\nlogging:\n  level: debug # laut\n",
		},
		{
			name: "block scalar",
			in:   "# Kommentar oben\nappservice:\n  as_token: |\n    generate\n  hs_token: generate\n",
		},
		{
			name: "alias",
			in:   "# Kommentar oben\nx: &tok generate\nappservice:\n  as_token: *tok\n  hs_token: generate\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, tc.in)
			require.NoError(t, SetTokens(path, testASToken, testHSToken))
			got := readFile(t, path)
			if tc.want != "" {
				assert.Equal(t, tc.want, got)
			} else {
				assert.Contains(t, got, "# Kommentar oben")
			}
			as, hs := readTokens(t, path)
			assert.Equal(t, testASToken, as)
			assert.Equal(t, testHSToken, hs)
		})
	}
}

func TestSetTokensQuotesWhereNeeded(t *testing.T) {
	path := writeTemp(t, "appservice:\n  as_token: generate\n  hs_token: generate\n")
	as := "#" + strings.Repeat("a", 40)
	hs := "12345678901234567890123456789012345"
	require.NoError(t, SetTokens(path, as, hs))
	gotAS, gotHS := readTokens(t, path)
	assert.Equal(t, as, gotAS)
	assert.Equal(t, hs, gotHS)
}

func TestSetTokensRefuses(t *testing.T) {
	const original = "appservice:\n  as_token: generate\n  hs_token: generate\n"
	tests := []struct {
		name    string
		content string
		as, hs  string
		want    error
	}{
		{"short token", original, "short", testHSToken, ErrInvalidToken},
		{"token with space", original, testASToken, strings.Repeat("a", 20) + " " + strings.Repeat("b", 20), ErrInvalidToken},
		{"equal tokens", original, testASToken, testASToken, ErrInvalidToken},
		{"empty file", "", testASToken, testHSToken, ErrEmptyConfig},
		{"list", "- a\n", testASToken, testHSToken, ErrNotMapping},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, tc.content)
			assert.ErrorIs(t, SetTokens(path, tc.as, tc.hs), tc.want)
			assert.Equal(t, tc.content, readFile(t, path), "the file must be left alone")
		})
	}
	t.Run("missing file", func(t *testing.T) {
		assert.ErrorIs(t, SetTokens(filepath.Join(t.TempDir(), "nope.yaml"), testASToken, testHSToken), os.ErrNotExist)
	})
}

func TestSetTokensFollowsSymlink(t *testing.T) {
	target := writeTemp(t, "appservice:\n  as_token: generate\n  hs_token: generate\n")
	link := filepath.Join(t.TempDir(), "link.yaml")
	require.NoError(t, os.Symlink(target, link))

	require.NoError(t, SetTokens(link, testASToken, testHSToken))

	info, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, info.Mode().Type(), "the link must stay a link")
	as, _ := readTokens(t, target)
	assert.Equal(t, testASToken, as)
}
