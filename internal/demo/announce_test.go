package demo

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
)

func testAnnouncement(t *testing.T) announcement {
	t.Helper()
	data, err := demoConfig(testOptions())
	require.NoError(t, err)
	cfg, _ := config.Parse(data)
	l, err := newLayout(t.TempDir())
	require.NoError(t, err)
	accounts, err := demoAccounts(cfg, l)
	require.NoError(t, err)
	return announcement{
		opts: testOptions(), cfg: cfg, accounts: accounts,
		config: ".demo/config.yaml", dir: ".demo", rathausLog: ".demo/rathaus.log", dendriteLog: ".demo/dendrite/logs/console.log",
		rathausPid: 11, dendritePid: 12,
		path: func(p string) string { return ".demo/" + p[strings.LastIndex(p, "/")+1:] },
	}
}

func TestAnnouncement(t *testing.T) {
	a := testAnnouncement(t)
	text := a.text()
	t.Log("\n" + text)
	login := a.accounts[0]

	assert.Contains(t, text, "Staff login     sachbearbeiterin  (@sachbearbeiterin:localhost:18448)")
	// The password stays in its file: the output goes to terminals and
	// shared CI logs.
	require.NotEmpty(t, login.password)
	assert.NotContains(t, text, login.password)
	assert.Contains(t, text, "Password        in .demo/sachbearbeiterin.password\n")
	assert.Contains(t, text, "show it with: cat .demo/sachbearbeiterin.password\n")
	assert.Contains(t, text, "admin in Bauamt, admin in Bürgerbüro")
	// The other accounts are listed with their password file, never their
	// password.
	for _, other := range a.accounts[1:] {
		assert.Contains(t, text, string(other.userID))
		assert.Contains(t, text, "password in .demo/"+other.localpart+".password")
		assert.NotContains(t, text, other.password)
	}
	assert.Contains(t, text, "(lead in Bauamt)")
	assert.Contains(t, text, "(caseworker in Bürgerbüro)")

	prose := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{
		`the spaces "Stadt Demoheim", "Bauamt", "Bürgerbüro" and to the staff rooms "Bauamt – Team", "Bürgerbüro – Team".`,
		"!rathaus departments", "!rathaus status verfügbar", "!rathaus help", "!rathaus sync",
		"Log in as sachbearbeiterin with the password in .demo/sachbearbeiterin.password.",
		"open a chat below in a browser and write a question; the case appears in the department's staff room, " +
			"where you claim it with !rathaus claim <Aktenzeichen>.",
		"Ctrl-C stops everything",
	} {
		assert.Contains(t, prose, want)
	}
	// Each department's chat on a line of its own, whole, so it can be
	// copied or clicked; at the chat port, which public_url follows.
	assert.Contains(t, text, "\n         Bauamt      http://127.0.0.1:19332/chat/bauamt\n")
	assert.Contains(t, text, "\n         Bürgerbüro  http://127.0.0.1:19332/chat/buergerbuero\n")
	assert.NotContains(t, text, "\u00a0", "no-break spaces are printed as spaces")

	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	last := lines[len(lines)-1]
	assert.Equal(t, "DEMO READY homeserver=http://127.0.0.1:18008 server_name=localhost:18448 user=@sachbearbeiterin:localhost:18448 "+
		"bot=@rathaus:localhost:18448 rathaus_pid=11 dendrite_pid=12 password_file="+login.passwordFile, last)
	assert.True(t, filepath.IsAbs(login.passwordFile), "a script finds the file from anywhere")
	for _, line := range lines[:len(lines)-1] {
		assert.LessOrEqual(t, utf8.RuneCountInString(line), 80, "line too long: %q", line)
	}
}

// A login that is on no department's staff gets no invitations; the
// instructions say so instead of promising them.
func TestAnnouncementWithoutDepartments(t *testing.T) {
	a := testAnnouncement(t)
	a.cfg.Departments = nil
	a.accounts = a.accounts[:1]
	prose := strings.Join(strings.Fields(a.text()), " ")
	assert.NotContains(t, prose, "Accept the invitations")
	assert.NotContains(t, prose, "More staff")
	assert.Contains(t, prose, "sachbearbeiterin is on no department's staff in .demo/config.yaml")
	assert.Contains(t, prose, "invite @rathaus:localhost:18448 and write: !rathaus help")
	assert.NotContains(t, prose, "/chat/")
}

// An operator may switch the chat off in config.yaml: no chat URLs then,
// but a word where they would be.
func TestAnnouncementChatOff(t *testing.T) {
	a := testAnnouncement(t)
	a.cfg.GuestChat.Enabled = false
	prose := strings.Join(strings.Fields(a.text()), " ")
	assert.NotContains(t, prose, "/chat/")
	assert.NotContains(t, prose, "Aktenzeichen")
	assert.Contains(t, prose, "5. The citizens' guest chat is off: guest_chat.enabled is false in .demo/config.yaml.")
}

func TestWrap(t *testing.T) {
	assert.Equal(t, "  1. aa bb\n     cc\n", wrap("  1. ", "     ", "aa bb cc", 10))
	assert.Equal(t, "- x y\n  loooooooong\n", wrap("- ", "  ", "x\u00a0y loooooooong", 6), "a no-break space holds, a long word stands alone")
}

func TestShellQuote(t *testing.T) {
	assert.Equal(t, ".demo/sachbearbeiterin.password", shellQuote(".demo/sachbearbeiterin.password"))
	assert.Equal(t, "'/home/Anna Muster/.demo/x.password'", shellQuote("/home/Anna Muster/.demo/x.password"))
	assert.Equal(t, `'it'\''s'`, shellQuote("it's"))
	assert.Equal(t, "''", shellQuote(""))
}
