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

// Staff lists someone edited are theirs: no upgrade.
func TestUpgradeLeavesEditedStaffAlone(t *testing.T) {
	opts, l := oldDemoDir(t, func(s string) string {
		return strings.Replace(s, "@ben:stadt.example", "@ben:localhost:18448", 1)
	})
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
	assert.Contains(t, foreignStaff(cfg), id.UserID("@anna:stadt.example"))
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
