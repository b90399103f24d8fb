package app

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
)

const unitConfig = `
homeserver:
  url: http://127.0.0.1:8008
  server_name: rathaus.test
appservice:
  as_token: as-token-for-the-unit-test-0000000000001
  hs_token: hs-token-for-the-unit-test-0000000000001
database:
  type: sqlite
authority:
  name: Stadt Einheitshausen
  ags: "09162000"
guest_chat:
  enabled: false
departments:
  - id: bauamt
    name: Bauamt
    staff:
      - user: "@anna:rathaus.test"
        role: admin
      - user: "@bernd:rathaus.test"
        role: caseworker
      - user: "@carol:nachbar.test"
        role: lead
`

// built returns an App whose capabilities are wired (build) on a fresh
// SQLite database, without a homeserver.
func built(tb testing.TB) *App {
	tb.Helper()
	cfg, err := config.Parse([]byte(unitConfig))
	require.NoError(tb, err)
	cfg.Database.URI = filepath.Join(tb.TempDir(), "rathaus.db")
	a, err := New(Options{Config: cfg, Log: zerolog.Nop()})
	require.NoError(tb, err)
	require.NoError(tb, a.build(context.Background()))
	tb.Cleanup(func() { _ = a.store.Close() })
	return a
}

// TestCommandPermissions: every capability's commands, as the running
// rathaus registers them, with who may run them.
func TestCommandPermissions(t *testing.T) {
	a := built(t)
	const stranger, caseworker, lead, admin = "@stranger:elsewhere.test", "@bernd:rathaus.test", "@carol:nachbar.test", "@anna:rathaus.test"
	anyone := []id.UserID{stranger, caseworker, lead, admin}
	staff := []id.UserID{caseworker, lead, admin}
	for _, tc := range []struct {
		names   []string
		allowed []id.UserID
	}{
		{[]string{"help", "hilfe", "ping", "version", "departments", "abteilungen"}, anyone},
		{[]string{"status", "claim", "übernehmen", "resolve", "erledigt", "close", "schließen", "reopen", "wiedereröffnen", "transfer", "abgeben", "ticket"}, staff},
		{[]string{"sync"}, []id.UserID{admin}},
		{[]string{"frobnicate"}, anyone}, // unknown: answered as unknown, not refused
	} {
		for _, name := range tc.names {
			for _, sender := range anyone {
				t.Run(name+" by "+sender.String(), func(t *testing.T) {
					refusal := a.router.Registry().Refusal(a.departments, name, sender)
					assert.Equal(t, slices.Contains(tc.allowed, sender), refusal == "", "refusal %q", refusal)
				})
			}
		}
	}
}
