package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestSynapseReusedTransactionIDs: Synapse on SQLite starts its appservice
// transaction ids at 1 again after a restart (synapse#14556). The new
// events behind an id rathaus has seen are stored and handled at once:
// the reply comes well before the dispatcher's next poll (10 s), because
// the stored events wake it.
func TestSynapseReusedTransactionIDs(t *testing.T) {
	env, _ := apptest.StartOn(t, tesths.Synapse, 1)
	ctx := t.Context()
	bob, _, _ := env.HS.RegisterUser(t, "bob", false)
	bot := env.Cfg.BotUserID()
	room := env.RoomWithBot(t, bob)
	pingWithin := func(limit time.Duration) {
		t.Helper()
		sent, err := bob.SendText(ctx, room, "!rathaus ping")
		require.NoError(t, err)
		tesths.WaitFor(t, limit, "the reply to "+sent.EventID.String(), func() error {
			replies, err := tesths.Replies(ctx, bob, room, bot)
			if err != nil {
				return err
			} else if len(replies[sent.EventID]) == 0 {
				return fmt.Errorf("no reply yet")
			}
			return nil
		})
	}
	pingWithin(30 * time.Second)
	require.NotContains(t, env.Log(), "transaction id seen before")

	env.HS.Restart(t)
	// Synapse's first transaction after the restart may carry only what
	// happened meanwhile; ping until a reused id has been seen.
	tesths.WaitFor(t, 60*time.Second, "Synapse to reuse a transaction id", func() error {
		pingWithin(5 * time.Second)
		if !strings.Contains(env.Log(), "Stored new events under a transaction id seen before") {
			return fmt.Errorf("no reused id yet")
		}
		return nil
	})
	assert.NotContains(t, env.Log(), `"level":"error"`)
}
