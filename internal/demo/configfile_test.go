package demo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/config"
)

func testOptions() Options {
	return Options{Dir: "x", HSPort: 18008, FedPort: 18448, ASPort: 19330, ChatPort: 19332}
}

func TestDemoConfig(t *testing.T) {
	data, err := demoConfig(testOptions())
	require.NoError(t, err)

	cfg, err := config.Parse(data)
	assert.Empty(t, nonTokenProblems(err), "only the tokens are left to generate")
	var problems config.ValidationErrors
	require.True(t, errors.As(err, &problems))
	assert.ElementsMatch(t, []string{"appservice.as_token", "appservice.hs_token"}, problems.Keys())
	assert.Equal(t, "http://127.0.0.1:18008", cfg.Homeserver.URL)
	assert.Equal(t, "localhost:18448", cfg.Homeserver.ServerName)
	assert.Equal(t, "127.0.0.1:19330", cfg.AppService.Listen)
	assert.Equal(t, "http://127.0.0.1:19330", cfg.AppService.PublicURL)
	assert.True(t, cfg.GuestChat.Enabled)
	assert.Equal(t, "127.0.0.1:19332", cfg.GuestChat.Listen)
	assert.Equal(t, "http://127.0.0.1:19332", cfg.GuestChat.PublicURL, "derived from the loopback listener")
	assert.Equal(t, config.DatabaseSQLite, cfg.Database.Type)
	assert.Equal(t, "rathaus.db", cfg.Database.URI)
	assert.Equal(t, config.LogFormatConsole, cfg.Logging.Format)
	assert.Equal(t, AuthorityName, cfg.Authority.Name)

	require.NoError(t, checkStaff(cfg, demoStaff("localhost:18448")))
	assert.Equal(t, []id.UserID{
		"@sachbearbeiterin:localhost:18448", "@bauamt-leitung:localhost:18448", "@buergerbuero-team:localhost:18448",
	}, staffUsers(cfg))
	assert.Empty(t, foreignStaff(cfg), "no staff of other servers is left")
	assert.True(t, cfg.IsAdmin("@sachbearbeiterin:localhost:18448"), "the printed login may run !rathaus sync")

	// The values and staff lists were replaced in place: apart from the
	// header, the staff lists and the settings' lines, the file is the
	// example, comments and blank lines included.
	body := bytes.TrimPrefix(data, []byte(configHeader))
	require.NotEqual(t, data, body, "the header comes first")
	got := withoutStaffLists(string(body))
	// The example's online service is dropped (withoutExampleOZGServices).
	example, err := withoutExampleOZGServices(rathaus.ExampleConfig)
	require.NoError(t, err)
	want := withoutStaffLists(string(example))
	require.Len(t, got, len(want))
	changed := 0
	for i := range want {
		if got[i] != want[i] {
			changed++
			assert.Regexp(t, `^\s*[a-z_]+: `, got[i])
		}
	}
	assert.LessOrEqual(t, changed, len(demoSettings(testOptions())))
	// Every comment of the example survives, in order, those documenting
	// the staff keys included.
	assertCommentsKept(t, string(example), string(body))
	assert.Contains(t, string(body), "# Matrix user ID of the staff member.")
}

// staffUsers lists every staff member once, in config order.
func staffUsers(cfg *config.Config) []id.UserID {
	var out []id.UserID
	for _, d := range cfg.Departments {
		for _, s := range d.Staff {
			if !slices.Contains(out, s.User) {
				out = append(out, s.User)
			}
		}
	}
	return out
}

// withoutStaffLists returns the lines of a config without the lines of its
// block-style staff lists (below a "staff:" line, indented deeper).
func withoutStaffLists(text string) []string {
	var out []string
	staffIndent := -1
	for _, line := range strings.Split(text, "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if staffIndent >= 0 {
			if strings.TrimSpace(line) == "" || indent > staffIndent {
				continue
			}
			staffIndent = -1
		}
		if strings.TrimSpace(line) == "staff:" {
			staffIndent = indent
		}
		out = append(out, line)
	}
	return out
}

// assertCommentsKept checks that the comment lines of orig appear in edited
// in the same order.
func assertCommentsKept(t *testing.T, orig, edited string) {
	t.Helper()
	lines := strings.Split(edited, "\n")
	pos := 0
	for _, line := range strings.Split(orig, "\n") {
		c := strings.TrimSpace(line)
		if !strings.HasPrefix(c, "#") {
			continue
		}
		for pos < len(lines) && strings.TrimSpace(lines[pos]) != c {
			pos++
		}
		if !assert.Less(t, pos, len(lines), "comment %q is lost or out of order", c) {
			return
		}
		pos++
	}
}

func TestSpliceFallsBackToReencoding(t *testing.T) {
	src := []byte("# head\na:\n  b: old # trailing comment\n\nc: 1\n")
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(src, &doc))
	settings := []demoSetting{{"a.b", "new"}, {"d.e", "added"}}
	_, ok := spliceValues(src, doc.Content[0], settings)
	assert.False(t, ok, "a trailing comment or a missing key prevents splicing")

	for _, kv := range settings {
		setKey(doc.Content[0], strings.Split(kv.key, "."), kv.value)
	}
	out, err := yaml.Marshal(&doc)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, yaml.Unmarshal(out, &got))
	assert.Equal(t, map[string]any{"a": map[string]any{"b": "new"}, "c": 1, "d": map[string]any{"e": "added"}}, got)
	assert.Contains(t, string(out), "# trailing comment")
}

func TestSpliceQuotedAndUnicode(t *testing.T) {
	src := []byte("name: \"Stadt Müllheim\"\nü: x\nort: 'alt'\n")
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(src, &doc))
	out, ok := spliceValues(src, doc.Content[0], []demoSetting{{"name", "neu"}, {"ü", "y"}, {"ort", "Demoheim"}})
	require.True(t, ok)
	assert.Equal(t, "name: neu\nü: y\nort: Demoheim\n", string(out))
}

func TestCheckFits(t *testing.T) {
	data, err := demoConfig(testOptions())
	require.NoError(t, err)
	cfg, _ := config.Parse(data)
	require.NoError(t, checkFits(cfg, testOptions(), layout{}, true))

	for _, tc := range []struct {
		name   string
		change func(*Options)
		key    string
	}{
		{"client port", func(o *Options) { o.HSPort = 1 }, "homeserver.url"},
		{"federation port", func(o *Options) { o.FedPort = 2 }, "homeserver.server_name"},
		{"appservice port", func(o *Options) { o.ASPort = 3 }, "appservice.listen"},
		{"chat port", func(o *Options) { o.ChatPort = 4 }, "guest_chat.listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			tc.change(&opts)
			err := checkFits(cfg, opts, layout{config: "config.yaml", dir: ".demo"}, true)
			require.ErrorIs(t, err, ErrConfigMismatch)
			assert.Contains(t, err.Error(), tc.key)
			assert.Contains(t, err.Error(), "delete .demo")
		})
	}

	// The chat's port counts only where the file chose one, and only while
	// the chat is on.
	opts := testOptions()
	opts.ChatPort = 4
	assert.NoError(t, checkFits(cfg, opts, layout{}, false), "a file from before the guest chat")
	cfg.GuestChat.Enabled = false
	assert.NoError(t, checkFits(cfg, opts, layout{}, true), "the chat is off")
}

func TestStaffPasswordIsStable(t *testing.T) {
	l, err := newLayout(t.TempDir())
	require.NoError(t, err)
	first, err := l.accountPassword(StaffLocalpart)
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^[a-km-z2-9]{5}(-[a-km-z2-9]{5}){3}$`), first)
	again, err := l.accountPassword(StaffLocalpart)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	info, err := os.Stat(filepath.Join(l.dir, StaffLocalpart+".password"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	other, err := newPassword()
	require.NoError(t, err)
	assert.NotEqual(t, first, other)
}

func TestLockDir(t *testing.T) {
	l, err := newLayout(filepath.Join(t.TempDir(), "demo"))
	require.NoError(t, err)
	unlock, err := l.lockDir()
	require.NoError(t, err)
	// flock locks belong to the open file, so a second open conflicts even
	// within one process, as a second demo would.
	_, err = l.lockDir()
	require.ErrorIs(t, err, ErrBusy)
	unlock()
	unlock2, err := l.lockDir()
	require.NoError(t, err)
	unlock2()
}
