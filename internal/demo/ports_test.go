package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/internal/syncbuf"
)

// demoDir sets up a state directory as a first run of this demo leaves
// it: its config.yaml with tokens, and the registration built from it.
// edit changes the config text before it is written.
func demoDir(t *testing.T, edit func(string) string) (Options, layout) {
	t.Helper()
	opts := testOptions()
	opts.Dir = t.TempDir()
	l, err := newLayout(opts.Dir)
	require.NoError(t, err)
	data, err := demoConfig(opts)
	require.NoError(t, err)
	text := strings.Replace(string(data), "as_token: generate", "as_token: "+testASToken, 1)
	text = strings.Replace(text, "hs_token: generate", "hs_token: "+testHSToken, 1)
	if edit != nil {
		text = edit(text)
	}
	require.NoError(t, os.WriteFile(l.config, []byte(text), 0o600))
	cfg, err := config.Parse([]byte(text))
	require.NoError(t, err)
	reg, err := yaml.Marshal(cfg.Registration())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(l.registration, reg, 0o600))
	return opts, l
}

func registrationURL(t *testing.T, l layout) string {
	t.Helper()
	data, err := os.ReadFile(l.registration)
	require.NoError(t, err)
	var reg struct{ URL string }
	require.NoError(t, yaml.Unmarshal(data, &reg))
	return reg.URL
}

// Issue 11, point 13: after a port change the demo suggested, the
// directory follows the ports that are only addresses; the previous files
// are kept, and the tokens, staff and comments stay.
func TestPortChangeMovesTheAddresses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Options)
		envs   []string
		// wantRegistration: registration.yaml moves too
		wantRegistration bool
	}{
		{name: "client API port", change: func(o *Options) { o.HSPort = 18010 }, envs: []string{EnvHSPort}},
		{name: "appservice port", change: func(o *Options) { o.ASPort = 19340 }, envs: []string{EnvASPort}, wantRegistration: true},
		{name: "chat port", change: func(o *Options) { o.ChatPort = 19342 }, envs: []string{EnvChatPort}},
		{name: "all three", change: func(o *Options) { o.HSPort, o.ASPort, o.ChatPort = 18010, 19340, 19342 },
			envs: []string{EnvHSPort, EnvASPort, EnvChatPort}, wantRegistration: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, l := demoDir(t, nil)
			before, err := os.ReadFile(l.config)
			require.NoError(t, err)
			regBefore, err := os.ReadFile(l.registration)
			require.NoError(t, err)
			tc.change(&opts)
			var out bytes.Buffer

			cfg, err := prepareConfig(context.Background(), opts, l, newConsole(&out))
			require.NoError(t, err, "output: %s", out.String())
			require.NoError(t, checkFits(cfg, opts, l, true), "the config has this run's ports")
			assert.Equal(t, "http://"+opts.ChatListen(), cfg.GuestChat.PublicURL, "the chat's URL follows its port")
			assert.Equal(t, testASToken, cfg.AppService.ASToken, "the tokens stay")
			require.NoError(t, checkStaff(cfg, demoStaff(opts.ServerName())), "the staff stay")
			said := strings.Join(strings.Fields(out.String()), " ")
			assert.Contains(t, said, "Moved")
			for _, env := range tc.envs {
				assert.Contains(t, said, "as "+env+" asks")
			}
			kept, err := os.ReadFile(l.config + ".old")
			require.NoError(t, err)
			assert.Equal(t, before, kept, "the previous file is kept")
			after, err := os.ReadFile(l.config)
			require.NoError(t, err)
			assertCommentsKept(t, string(before), string(after))

			if tc.wantRegistration {
				assert.Equal(t, "http://"+opts.ASListen(), registrationURL(t, l), "the homeserver pushes to the new port")
				regKept, err := os.ReadFile(l.registration + ".old")
				require.NoError(t, err)
				assert.Equal(t, regBefore, regKept)
			} else {
				assert.NoFileExists(t, l.registration+".old")
			}

			// The next start with the same ports finds nothing to move.
			out.Reset()
			_, err = prepareConfig(context.Background(), opts, l, newConsole(&out))
			require.NoError(t, err)
			assert.NotContains(t, out.String(), "Moved")
			again, err := os.ReadFile(l.config)
			require.NoError(t, err)
			assert.Equal(t, after, again)
		})
	}
}

// An address someone edited is theirs: the demo says what to set instead
// of guessing.
func TestPortChangeRefusesEditedAddresses(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		change         func(*Options)
		key            string
	}{
		{"homeserver url", "url: http://127.0.0.1:18008", "url: http://localhost:18008", func(o *Options) { o.HSPort = 18010 }, "homeserver.url"},
		{"appservice public url", "public_url: http://127.0.0.1:19330", "public_url: http://rathaus.internal:19330", func(o *Options) { o.ASPort = 19340 }, "appservice.listen"},
		// guest_chat's public_url, not homeserver's, which is "" too.
		{"chat public url", "otherwise required)\n  public_url: \"\"\n", "otherwise required)\n  public_url: http://127.0.0.1:19332\n",
			func(o *Options) { o.ChatPort = 19342 }, "guest_chat.listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, l := demoDir(t, func(s string) string {
				require.Contains(t, s, tc.old)
				return strings.Replace(s, tc.old, tc.new, 1)
			})
			before, err := os.ReadFile(l.config)
			require.NoError(t, err)
			tc.change(&opts)
			_, err = prepareConfig(context.Background(), opts, l, newConsole(&bytes.Buffer{}))
			require.ErrorIs(t, err, ErrConfigMismatch)
			assert.Contains(t, err.Error(), tc.key)
			assert.Contains(t, err.Error(), "not an address the demo wrote")
			after, err := os.ReadFile(l.config)
			require.NoError(t, err)
			assert.Equal(t, before, after)
			assert.NoFileExists(t, l.config+".old")
		})
	}
}

// The federation port names the server: the directory cannot follow it,
// and the refusal gives the commands to go on.
func TestFederationPortChangeSaysHowToGoOn(t *testing.T) {
	opts, l := demoDir(t, nil)
	before, err := os.ReadFile(l.config)
	require.NoError(t, err)
	opts.FedPort = 18449
	_, err = prepareConfig(context.Background(), opts, l, newConsole(&bytes.Buffer{}))
	require.ErrorIs(t, err, ErrConfigMismatch)
	msg := err.Error()
	assert.Contains(t, msg, `"localhost:18448"`)
	assert.Contains(t, msg, EnvFedPort+"=18448", "keep the old port")
	assert.Contains(t, msg, EnvFresh+"=1", "start fresh, keeping a backup")
	assert.Contains(t, msg, "mv "+l.dir+" "+l.dir+".old-18448", "move it aside by hand")
	assert.NotContains(t, msg, "delete")
	after, err := os.ReadFile(l.config)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

func TestMoveAside(t *testing.T) {
	l, err := newLayout(filepath.Join(t.TempDir(), ".demo"))
	require.NoError(t, err)
	now := time.Date(2026, 11, 28, 9, 30, 0, 0, time.Local)

	backup, err := l.moveAside(now)
	require.NoError(t, err)
	assert.Empty(t, backup, "no directory, nothing to keep")

	require.NoError(t, os.MkdirAll(l.dir, 0o700))
	require.NoError(t, os.WriteFile(l.config, []byte("x: 1\n"), 0o600))
	unlock, err := l.lockDir()
	require.NoError(t, err)
	_, err = l.moveAside(now)
	require.ErrorIs(t, err, ErrBusy, "a running demo keeps its directory")
	assert.FileExists(t, l.config)
	unlock()

	backup, err = l.moveAside(now)
	require.NoError(t, err)
	assert.Equal(t, l.dir+".old-20261128-093000", backup)
	assert.FileExists(t, filepath.Join(backup, "config.yaml"))
	assert.NoDirExists(t, l.dir)

	require.NoError(t, os.MkdirAll(l.dir, 0o700))
	require.NoError(t, os.WriteFile(l.config, []byte("x: 2\n"), 0o600))
	second, err := l.moveAside(now)
	require.NoError(t, err)
	assert.Equal(t, backup+"-2", second, "an earlier backup is never overwritten")
}

// The whole way with the real Dendrite: a new client API port is taken
// over by the existing directory; a new federation port is refused before
// anything starts, and with Fresh the old directory is kept as a backup.
func TestRunAfterPortChanges(t *testing.T) {
	var out syncbuf.Buffer
	opts := fakeOptions(t, &out)
	require.ErrorIs(t, Run(context.Background(), opts), ErrChildExited, "output:\n%s", out.String())

	ports, err := devhs.FreePorts(2)
	require.NoError(t, err)
	opts.HSPort = ports[0]
	err = Run(context.Background(), opts)
	require.ErrorIs(t, err, ErrChildExited, "Dendrite started on the new port; output:\n%s", out.String())
	cfg, err := config.Load(filepath.Join(opts.Dir, "config.yaml"))
	require.NoError(t, err)
	assert.Equal(t, opts.HomeserverURL(), cfg.Homeserver.URL)
	assert.Contains(t, out.String(), EnvHSPort)

	oldName := opts.ServerName()
	opts.FedPort = ports[1]
	err = Run(context.Background(), opts)
	require.ErrorIs(t, err, ErrConfigMismatch)
	assert.Contains(t, err.Error(), EnvFresh)

	opts.Fresh = true
	err = Run(context.Background(), opts)
	require.ErrorIs(t, err, ErrChildExited, "a new demo started; output:\n%s", out.String())
	cfg, err = config.Load(filepath.Join(opts.Dir, "config.yaml"))
	require.NoError(t, err)
	assert.Equal(t, opts.ServerName(), cfg.Homeserver.ServerName)
	backups, err := filepath.Glob(opts.Dir + ".old-*")
	require.NoError(t, err)
	require.Len(t, backups, 1, "output:\n%s", out.String())
	t.Cleanup(func() { os.RemoveAll(backups[0]) })
	old, err := config.Load(filepath.Join(backups[0], "config.yaml"))
	require.NoError(t, err)
	assert.Equal(t, oldName, old.Homeserver.ServerName, "the old demo is kept whole")
	assert.Contains(t, out.String(), "Moved the previous demo directory to")
	assertNothingRunsIn(t, opts.Dir)
}
