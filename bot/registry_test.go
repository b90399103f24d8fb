package bot

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"
)

// fixedRoles: anna is admin, bernd staff, everyone else neither.
type fixedRoles struct{}

func (fixedRoles) IsStaff(u id.UserID) bool { return u == "@anna:hs" || u == "@bernd:hs" }
func (fixedRoles) IsAdmin(u id.UserID) bool { return u == "@anna:hs" }

// TestRegistryOneDeclaration: a command declared once appears in the help
// and is refused for the wrong role, with no other code.
func TestRegistryOneDeclaration(t *testing.T) {
	r := NewRegistry()
	ran := 0
	require.NoError(t, r.Register(Command{
		Names: []string{"aufräumen", "cleanup"}, Permission: Admin,
		Help: "räumt auf (nur im Test) / cleans up (test only)",
		Run:  func(context.Context, *Request) string { ran++; return "aufgeräumt" },
	}))
	assert.Contains(t, r.Help(), "!rathaus aufräumen (cleanup) – räumt auf (nur im Test) / cleans up (test only) (nur Administrator:innen / administrators only)")

	ask := func(sender id.UserID, name string, args ...string) string {
		return r.Answer(context.Background(), fixedRoles{}, &Request{Sender: sender, Name: name, Args: args})
	}
	for _, sender := range []id.UserID{"@bernd:hs", "@stranger:elsewhere"} {
		assert.Contains(t, ask(sender, "aufräumen"), "nur für Administrator:innen", sender)
		assert.Contains(t, ask(sender, "cleanup"), "nur für Administrator:innen", "the alias too, for %s", sender)
	}
	assert.Zero(t, ran, "refused before Run")
	assert.Contains(t, ask("@anna:hs", "aufräumen", "jetzt"), "erwartet keine weiteren Angaben", "no Args: arguments refused")
	assert.Zero(t, ran)
	assert.Equal(t, "aufgeräumt", ask("@anna:hs", "cleanup"))
	assert.Equal(t, 1, ran)
	assert.Contains(t, ask("@stranger:elsewhere", ""), "!rathaus aufräumen", "the bare prefix is help")
	assert.Contains(t, ask("@stranger:elsewhere", "frobnicate"), "Unbekannter Befehl „frobnicate“")
}

func TestRegistryRefusesBadDeclarations(t *testing.T) {
	run := func(context.Context, *Request) string { return "" }
	for _, tc := range []struct {
		name string
		cmd  Command
	}{
		{"no names", Command{Help: "x", Run: run}},
		{"no run", Command{Names: []string{"x"}, Help: "x"}},
		{"no help", Command{Names: []string{"x"}, Run: run}},
		{"upper case", Command{Names: []string{"Ping2"}, Help: "x", Run: run}},
		{"two words", Command{Names: []string{"two words"}, Help: "x", Run: run}},
		{"unknown permission", Command{Names: []string{"x"}, Help: "x", Run: run, Permission: Permission(7)}},
		{"name taken", Command{Names: []string{"y", "hilfe"}, Help: "x", Run: run}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRegistry()
			err := r.Register(tc.cmd)
			assert.ErrorIs(t, err, ErrBadCommand)
			assert.NotContains(t, r.Help(), "!rathaus y", "nothing of a refused batch is added")
		})
	}
	r := NewRegistry()
	assert.ErrorIs(t, r.Register(
		Command{Names: []string{"same"}, Help: "x", Run: run},
		Command{Names: []string{"same"}, Help: "x", Run: run}), ErrBadCommand, "twice in one batch")
	assert.Nil(t, r.Lookup("same"))
}
