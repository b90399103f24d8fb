package main_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestKill9MidBatch: rathaus is killed while it works through a batch of
// one room's events: some handlers have run (their replies are on the
// homeserver) but the batch is not yet recorded as done. After the
// restart every command is answered exactly once: the events not marked
// done run again, and their handlers find their earlier replies through
// the outbox's deterministic transaction ids instead of sending again.
func TestKill9MidBatch(t *testing.T) {
	eachKind(t, func(t *testing.T, kind tesths.Kind) {
		var proxy *holdingProxy
		setup := setupRathaus(t, kind, nil, func(hsURL string) string {
			p, proxyURL := newHoldingProxy(t, hsURL)
			proxy = p
			return proxyURL
		})
		hs, proc := setup.hs, setup.proc
		proc.start(t)

		ctx := context.Background()
		alice, _, _ := hs.RegisterUser(t, "alice", false)
		bot := id.NewUserID("rathaus", hs.ServerName)
		resp, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bot}})
		require.NoError(t, err)
		room := resp.RoomID
		waitJoined(t, alice, room, bot)
		attempts := attemptCounter(t, setup.dbPath)

		// Stall the first reply and queue the other commands behind it, so
		// that they wait in the inbox together; then kill rathaus.
		proxy.holdAfter(0)
		const n = 20
		var pings []id.EventID
		for range n {
			sent, err := alice.SendText(ctx, room, "!rathaus ping")
			require.NoError(t, err)
			pings = append(pings, sent.EventID)
		}
		countInbox := inboxCounter(t, setup.dbPath)
		tesths.WaitFor(t, 30*time.Second, "all commands stored and the first reply stalled", func() error {
			if stored, _, _ := attempts(pings); stored < n {
				return fmt.Errorf("%d of %d stored", stored, n)
			}
			if proxy.stalled.Load() != 1 {
				return fmt.Errorf("%d sends stalled", proxy.stalled.Load())
			}
			return nil
		})
		proc.kill(t)
		proxy.releaseAll()

		// After the restart the first command runs alone (it was attempted);
		// the other 19 form one batch. Let five of its replies through and
		// stall the sixth: the kill comes in the middle of the batch.
		proxy.holdAfter(5)
		proc.start(t)
		tesths.WaitFor(t, 60*time.Second, "the batch to stall at its sixth reply", func() error {
			if proxy.stalled.Load() != 1 {
				return fmt.Errorf("%d sends stalled", proxy.stalled.Load())
			}
			return nil
		})
		_, counted, done := attempts(pings[1:])
		require.Equal(t, n-1, counted, "the batch's attempts were counted together, before its handlers ran")
		require.Zero(t, done, "nothing of the batch is recorded as done yet")
		before := replyCounts(t, alice, room, bot)
		handled := 0
		for _, p := range pings[1:] {
			handled += before[p]
		}
		require.Equal(t, 6, handled, "five replies confirmed and one created but unconfirmed when rathaus dies")
		proc.kill(t)
		proxy.releaseAll()
		t.Logf("killed rathaus in the middle of a batch: %d of its %d commands answered, none recorded done", handled, n-1)

		proc.start(t)
		tesths.WaitFor(t, 60*time.Second, "every command handled after the restart", func() error {
			if p := countInbox("pending"); p > 0 {
				return fmt.Errorf("%d pending", p)
			}
			return nil
		})
		var replies map[id.EventID]int
		tesths.WaitFor(t, 60*time.Second, "a reply to every ping", func() error {
			replies = replyCounts(t, alice, room, bot)
			for _, p := range pings {
				if replies[p] == 0 {
					return fmt.Errorf("ping %s has no reply", p)
				}
			}
			return nil
		})
		for i, p := range pings {
			assert.Equal(t, 1, replies[p], "replies to ping %d (%s)", i, p)
		}
		assert.Zero(t, countInbox("parked"), "no command parked")
	})
}

// replyCounts counts the bot's replies in room per event replied to.
func replyCounts(t *testing.T, cli *mautrix.Client, room id.RoomID, bot id.UserID) map[id.EventID]int {
	t.Helper()
	got, err := tesths.Replies(t.Context(), cli, room, bot)
	require.NoError(t, err)
	counts := map[id.EventID]int{}
	for to, bodies := range got {
		counts[to] = len(bodies)
	}
	return counts
}

// attemptCounter opens rathaus's database read-only and returns a
// function that counts, among the given events, those stored, those with
// a counted attempt and those marked done.
func attemptCounter(t *testing.T, dbPath string) func([]id.EventID) (stored, attempted, done int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return func(events []id.EventID) (stored, attempted, done int) {
		for _, e := range events {
			var a int
			var state string
			err := db.QueryRowContext(t.Context(), `SELECT attempts, state FROM inbox_event WHERE event_id = $1`, e).Scan(&a, &state)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			require.NoError(t, err)
			stored++
			if a > 0 {
				attempted++
			}
			if state == "done" {
				done++
			}
		}
		return stored, attempted, done
	}
}
