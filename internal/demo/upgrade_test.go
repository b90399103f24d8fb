package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/config"
)

const (
	testASToken = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	testHSToken = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// oldDemoDir sets up a state directory as an earlier demo left it: the
// example with the demo's values but the example's staff, tokens generated,
// a registration. edit changes the config text before it is written.
func oldDemoDir(t *testing.T, edit func(string) string) (Options, layout) {
	t.Helper()
	opts := testOptions()
	opts.Dir = t.TempDir()
	l, err := newLayout(opts.Dir)
	require.NoError(t, err)
	data, err := editConfig(rathaus.ExampleConfig, demoSettings(opts), nil)
	require.NoError(t, err)
	// Demos of that time had no online service (no ozg section at all).
	data, err = withoutExampleOZGServices(data)
	require.NoError(t, err)
	text := "# rathaus configuration of the local demo, written by rathaus-demo (make run)\n\n" + string(data)
	text = strings.Replace(text, "as_token: generate", "as_token: "+testASToken, 1)
	text = strings.Replace(text, "hs_token: generate", "hs_token: "+testHSToken, 1)
	if edit != nil {
		text = edit(text)
	}
	require.NoError(t, os.WriteFile(l.config, []byte(text), 0o600))
	require.NoError(t, os.WriteFile(l.registration, []byte("id: rathaus\n"), 0o600))
	return opts, l
}

func TestUpgradeReplacesTheExampleStaff(t *testing.T) {
	opts, l := oldDemoDir(t, nil)
	before, err := os.ReadFile(l.config)
	require.NoError(t, err)
	var out bytes.Buffer

	cfg, err := prepareConfig(context.Background(), opts, l, newConsole(&out))
	require.NoError(t, err)
	require.NoError(t, checkStaff(cfg, demoStaff(opts.ServerName())))
	assert.Equal(t, testASToken, cfg.AppService.ASToken, "the tokens stay")
	assert.Equal(t, testHSToken, cfg.AppService.HSToken)
	assert.Contains(t, out.String(), "Upgraded")
	assert.Contains(t, out.String(), "@anna:stadt.example")

	kept, err := os.ReadFile(l.config + ".old")
	require.NoError(t, err)
	assert.Equal(t, before, kept, "the previous file is kept")
	after, err := os.ReadFile(l.config)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(after, []byte(upgradeNote)))
	assertCommentsKept(t, string(before), string(after))
	info, err := os.Stat(l.config)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// The next start finds nothing to upgrade.
	out.Reset()
	_, err = prepareConfig(context.Background(), opts, l, newConsole(&out))
	require.NoError(t, err)
	assert.NotContains(t, out.String(), "Upgraded")
	again, err := os.ReadFile(l.config)
	require.NoError(t, err)
	assert.Equal(t, after, again)
}

// editedStaff replaces every example staff member, as someone who edited
// the staff lists of an earlier demo's config.yaml did.
func editedStaff(s string) string {
	s = strings.ReplaceAll(s, ":stadt.example\"", ":localhost:18448\"")
	return strings.Replace(s, "@emil:nachbargemeinde.example", "@emil:nachbarort.de", 1)
}

// Staff lists someone edited are theirs: no upgrade.
func TestUpgradeLeavesEditedStaffAlone(t *testing.T) {
	opts, l := oldDemoDir(t, editedStaff)
	before, err := os.ReadFile(l.config)
	require.NoError(t, err)
	var out bytes.Buffer
	cfg, err := prepareConfig(context.Background(), opts, l, newConsole(&out))
	require.NoError(t, err)
	assert.NotContains(t, out.String(), "Upgraded")
	after, err := os.ReadFile(l.config)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	assert.NoFileExists(t, l.config+".old")
	assert.Equal(t, []id.UserID{"@emil:nachbarort.de"}, foreignStaff(cfg))
}

// An edited staff list that kept some of the example's staff is refused
// like any placeholder (rathaus would refuse it too), naming each one; the
// file stays as it is.
func TestUpgradeRefusesExampleStaffLeftInEditedLists(t *testing.T) {
	opts, l := oldDemoDir(t, func(s string) string {
		return strings.Replace(s, "@ben:stadt.example", "@ben:localhost:18448", 1)
	})
	before, err := os.ReadFile(l.config)
	require.NoError(t, err)
	var out bytes.Buffer
	_, err = prepareConfig(context.Background(), opts, l, newConsole(&out))
	require.Error(t, err)
	for _, u := range []string{"@anna:stadt.example", "@carla:stadt.example", "@deniz:stadt.example", "@emil:nachbargemeinde.example"} {
		assert.Contains(t, err.Error(), `still the placeholder "`+u+`"`)
	}
	assert.NotContains(t, err.Error(), "@ben:")
	after, err := os.ReadFile(l.config)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	assert.NoFileExists(t, l.config+".old")
}

func TestDemoAccounts(t *testing.T) {
	data, err := demoConfig(testOptions())
	require.NoError(t, err)
	cfg, _ := config.Parse(data)
	l, err := newLayout(t.TempDir())
	require.NoError(t, err)

	accounts, err := demoAccounts(cfg, l)
	require.NoError(t, err)
	var names []string
	for _, a := range accounts {
		names = append(names, a.localpart)
		assert.Equal(t, id.NewUserID(a.localpart, "localhost:18448"), a.userID)
		assert.Equal(t, filepath.Join(l.dir, a.localpart+".password"), a.passwordFile)
		stored, err := os.ReadFile(a.passwordFile)
		require.NoError(t, err)
		assert.Equal(t, a.password+"\n", string(stored))
	}
	assert.Equal(t, []string{StaffLocalpart, BauamtLeadLocalpart, BuergerbueroLocalpart}, names, "the printed login first, each once")
	again, err := demoAccounts(cfg, l)
	require.NoError(t, err)
	assert.Equal(t, accounts, again, "the passwords are kept")
	assert.NotEqual(t, accounts[0].password, accounts[1].password)

	// Staff of other servers are not created; localparts that cannot name
	// a file are refused.
	cfg.Departments[0].Staff = append(cfg.Departments[0].Staff,
		config.StaffConfig{User: "@zoe:stadt.example"}, config.StaffConfig{User: "@a/b:localhost:18448"})
	_, err = demoAccounts(cfg, l)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "@a/b:localhost:18448")
	assert.NotContains(t, err.Error(), "zoe")
	assert.Equal(t, []id.UserID{"@zoe:stadt.example"}, foreignStaff(cfg))
}

// beforeGuestChat cuts the guest chat and retention sections, which came
// together, from a config text, as demos before the guest chat wrote it.
func beforeGuestChat(t *testing.T, text string) string {
	t.Helper()
	i := strings.Index(text, "\n# The citizens' guest chat")
	require.Positive(t, i, "the example's guest chat section moved")
	return text[:i+1]
}

// A config.yaml from before the guest chat gets the demo's chat port, unless
// it is rathaus's default; every line of the file stays.
func TestUpgradeBeforeTheGuestChat(t *testing.T) {
	for _, tc := range []struct {
		name     string
		edit     func(string) string // after the guest chat was cut
		chatPort int
		// wantUpgrade: the file is rewritten; wantStaff: with the demo's staff
		wantUpgrade, wantStaff bool
		wantListen             string
		wantPow                int // 0: the default
	}{
		// Upgraded only for the privacy notice a chat needs now.
		{name: "default port", edit: editedStaff, chatPort: DefaultChatPort, wantUpgrade: true, wantListen: config.DefaultGuestListen},
		{name: "custom port", edit: editedStaff, chatPort: 19332, wantUpgrade: true, wantListen: "127.0.0.1:19332"},
		{name: "custom port and the example's staff", chatPort: 19332, wantUpgrade: true, wantStaff: true, wantListen: "127.0.0.1:19332"},
		{name: "chat switched off", chatPort: 19332, wantStaff: true, wantUpgrade: true,
			edit: func(s string) string { return s + "guest_chat:\n  enabled: false\n" }},
		{name: "section without listen", chatPort: 19332, wantUpgrade: true, wantListen: "127.0.0.1:19332", wantPow: 12,
			edit: func(s string) string { return editedStaff(s) + "guest_chat:\n  pow_difficulty: 12\n" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, l := oldDemoDir(t, func(s string) string {
				s = beforeGuestChat(t, s)
				if tc.edit != nil {
					s = tc.edit(s)
				}
				return s
			})
			opts.ChatPort = tc.chatPort
			before, err := os.ReadFile(l.config)
			require.NoError(t, err)
			var out bytes.Buffer

			cfg, err := prepareConfig(context.Background(), opts, l, newConsole(&out))
			require.NoError(t, err, "output: %s", out.String())
			after, err := os.ReadFile(l.config)
			require.NoError(t, err)
			if !tc.wantUpgrade {
				assert.Equal(t, string(before), string(after))
				assert.NoFileExists(t, l.config+".old")
				assert.NotContains(t, out.String(), "Upgraded")
			} else {
				kept, err := os.ReadFile(l.config + ".old")
				require.NoError(t, err)
				assert.Equal(t, before, kept, "one backup: the file as it was")
				assert.Contains(t, out.String(), "Upgraded")
				assertCommentsKept(t, string(before), string(after))
			}
			assert.Equal(t, tc.wantStaff, checkStaff(cfg, demoStaff(opts.ServerName())) == nil, "the demo's staff")
			if tc.wantListen == "" {
				assert.False(t, cfg.GuestChat.Enabled)
				return
			}
			assert.True(t, cfg.GuestChat.Enabled)
			assert.Equal(t, tc.wantListen, cfg.GuestChat.Listen)
			assert.Equal(t, "http://"+tc.wantListen, cfg.GuestChat.PublicURL)
			assert.Equal(t, privacyPageFile, cfg.GuestChat.PrivacyPage, "the demo's privacy notice")
			assert.Equal(t, "http://"+tc.wantListen+config.PrivacyPagePath, cfg.Authority.PrivacyURL)
			if tc.chatPort != DefaultChatPort {
				assert.Contains(t, strings.Join(strings.Fields(out.String()), " "), "guest_chat.listen is now "+tc.wantListen)
			}
			wantPow := tc.wantPow
			if wantPow == 0 {
				wantPow = config.DefaultPowDifficulty
			}
			assert.Equal(t, wantPow, cfg.GuestChat.PowDifficulty, "a hand-written section keeps its keys")

			// The next start finds nothing to upgrade; from now on the chat
			// port is the file's, like the other ports.
			out.Reset()
			_, err = prepareConfig(context.Background(), opts, l, newConsole(&out))
			require.NoError(t, err)
			assert.NotContains(t, out.String(), "Upgraded")
			again, err := os.ReadFile(l.config)
			require.NoError(t, err)
			assert.Equal(t, string(after), string(again))
			if tc.chatPort != DefaultChatPort {
				// Another chat port then moves the listener (portMoves).
				other := opts
				other.ChatPort = 19333
				cfg, err = prepareConfig(context.Background(), other, l, newConsole(&out))
				require.NoError(t, err)
				assert.Equal(t, "127.0.0.1:19333", cfg.GuestChat.Listen)
				assert.Contains(t, out.String(), EnvChatPort)
			}
		})
	}
}
