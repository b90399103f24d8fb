package cases_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

func retentionYAML(abandonAfter, keepClosed string) string {
	return "retention:\n  abandon_after: " + abandonAfter + "\n  idle_warning: 0s\n  close_resolved_after: 2s\n  keep_closed: " +
		keepClosed + "\n  check_interval: 200ms\n"
}

// citizenActivity stands in for the guest chat, which records the
// citizen's activity: it keeps last_citizen_at of the given cases at
// "now" until stopped.
func citizenActivity(t *testing.T, s *store.Store, caseIDs ...protocol.CaseID) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	touch := func() {
		for _, caseID := range caseIDs {
			_, err := s.DB.Exec(ctx, `UPDATE citizen_case SET last_citizen_at = $2 WHERE id = $1`, caseID, time.Now().UnixMilli())
			if err != nil && ctx.Err() == nil {
				t.Errorf("failed to record citizen activity: %v", err)
			}
		}
	}
	touch()
	go func() {
		defer wg.Done()
		ticker := time.NewTicker(50 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				touch()
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// waitForStatus waits until a case has a status (and, for ended ones, its
// purge date) and returns it.
func waitForStatus(t *testing.T, s *store.Store, caseID protocol.CaseID, status protocol.CaseStatus) *store.Case {
	t.Helper()
	var c *store.Case
	tesths.WaitFor(t, 30*time.Second, "case "+caseID.String()+" to be "+string(status), func() error {
		var err error
		if c, err = s.GetCase(context.Background(), caseID); err != nil {
			return err
		} else if c.Status != status {
			return fmt.Errorf("status is %s", c.Status)
		} else if (status == protocol.CaseAbandoned || status == protocol.CaseClosed) && c.RetainUntil.IsZero() {
			// The purge date is stored right after the status change, in
			// a statement of its own (the purge itself goes by closed_at).
			return fmt.Errorf("status is %s, purge date not yet stored", c.Status)
		}
		return nil
	})
	return c
}

// TestRetention: with short periods an idle case is abandoned while one
// with citizen activity stays open; a closed case is purged so that its
// caseworker's own client sees every message redacted, the room marked
// and themselves removed; an interrupted purge is finished.
func TestRetention(t *testing.T) {
	apptest.EachHomeserver(t, func(t *testing.T, kind tesths.Kind) { retention(t, kind) })
}

func retention(t *testing.T, kind tesths.Kind) {
	t.Helper()
	ctx := context.Background()
	// Abandoning and purging start below, after reloads.
	env, users := apptest.StartDepartmentOn(t, kind, []apptest.Member{{Name: "anna", Role: "caseworker"}}, retentionYAML("1h", "1h"))
	anna := users["anna"]
	s := env.App.Store()
	bot := env.Cfg.BotUserID()
	botCli := env.App.AppService().BotClient()

	// Every case is opened while abandon_after is long, and the ones with
	// a citizen get their activity before it becomes short: opening a
	// case takes several homeserver requests, which on a busy machine can
	// take longer than the short period.
	// The busy case is opened first: when the idle one is abandoned, the
	// busy one has been open longer than abandon_after too.
	busy, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt"})
	require.NoError(t, err)
	stopBusy := citizenActivity(t, s, busy.ID)
	defer stopBusy()
	idle, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", DisplayName: "Maria"})
	require.NoError(t, err)
	// A case with a conversation, claimed and closed by Anna (below).
	c, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt", DisplayName: "Jonas"})
	require.NoError(t, err)
	stopCitizen := citizenActivity(t, s, c.ID)
	defer stopCitizen()
	// A case Anna resolves (below): not abandoned while she works on it.
	resolved, err := env.App.Cases().OpenCase(ctx, cases.OpenCaseRequest{Department: "bauamt"})
	require.NoError(t, err)
	stopResolved := citizenActivity(t, s, resolved.ID)
	defer stopResolved()
	env.Extra = strings.Replace(env.Extra, retentionYAML("1h", "1h"), retentionYAML("2s", "1h"), 1)
	_, err = env.App.Reload(ctx)
	require.NoError(t, err)

	t.Run("idle case is abandoned", func(t *testing.T) {
		got := waitForStatus(t, s, idle.ID, "abandoned")
		assert.False(t, got.RetainUntil.IsZero(), "the purge date is recorded")
		var state protocol.CaseContent
		// The room state follows the database.
		tesths.WaitFor(t, 30*time.Second, "the room state to say abandoned", func() error {
			if err := botCli.StateEvent(ctx, idle.RoomID, protocol.CaseEventType, "", &state); err != nil {
				return err
			} else if state.Status != protocol.CaseAbandoned {
				return fmt.Errorf("status is %s", state.Status)
			}
			return nil
		})
		assert.Equal(t, got.RetainUntil.UnixMilli(), state.RetainUntil)
		assert.InDelta(t, time.Hour.Milliseconds(), state.RetainUntil-time.Now().UnixMilli(), float64(time.Minute.Milliseconds()))
		tesths.WaitFor(t, 30*time.Second, "the inactivity notice", func() error {
			return findMessage(ctx, botCli, idle.RoomID, bot, "Dieser Fall wurde wegen Inaktivität beendet")
		})
		history, err := s.CaseHistory(ctx, idle.ID)
		require.NoError(t, err)
		assert.Equal(t, store.CaseTransition{From: "queued", To: "abandoned", Action: "abandon", Actor: bot.String(),
			At: history[len(history)-1].At}, history[len(history)-1])
	})

	t.Run("citizen activity keeps a case open", func(t *testing.T) {
		got, err := s.GetCase(ctx, busy.ID)
		require.NoError(t, err)
		assert.Equal(t, protocol.CaseQueued, got.Status)
		assert.Greater(t, time.Since(got.CreatedAt), 2*time.Second, "the case is older than abandon_after")
	})
	stopBusy()

	staffRoom, err := anna.Cli.ResolveAlias(ctx, id.NewRoomAlias("_rathaus_bauamt", env.Cfg.Homeserver.ServerName))
	require.NoError(t, err)
	space, err := anna.Cli.ResolveAlias(ctx, id.NewRoomAlias("_rathaus_bauamt_space", env.Cfg.Homeserver.ServerName))
	require.NoError(t, err)
	_, err = anna.Cli.JoinRoomByID(ctx, staffRoom.RoomID)
	require.NoError(t, err)
	sent, err := anna.Cli.SendText(ctx, staffRoom.RoomID, "!rathaus claim "+c.Reference)
	require.NoError(t, err)
	require.Contains(t, apptest.BotReplyTo(t, anna.Cli, staffRoom.RoomID, bot, sent.EventID), "ist jetzt Ihr Fall")
	tesths.WaitFor(t, 30*time.Second, "anna to join the case room", func() error {
		_, err := anna.Cli.JoinRoomByID(ctx, c.RoomID)
		return err
	})
	_, err = env.App.AppService().Intent(c.Ghost).SendText(ctx, c.RoomID, "Ich möchte eine Garage bauen, Flurstück 12/3.")
	require.NoError(t, err)
	_, err = anna.Cli.SendText(ctx, c.RoomID, "Dafür brauchen Sie einen Bauantrag.")
	require.NoError(t, err)
	sent, err = anna.Cli.SendText(ctx, c.RoomID, "!rathaus close")
	require.NoError(t, err)
	require.Contains(t, apptest.BotReplyTo(t, anna.Cli, c.RoomID, bot, sent.EventID), "geschlossen / closed")
	stopCitizen()
	var state protocol.CaseContent
	require.NoError(t, anna.Cli.StateEvent(ctx, c.RoomID, protocol.CaseEventType, "", &state))
	assert.Equal(t, protocol.CaseClosed, state.Status)
	assert.NotZero(t, state.RetainUntil, "a closed case shows when it is purged")
	tesths.WaitFor(t, 30*time.Second, "the closing notice", func() error {
		return findMessage(ctx, anna.Cli, c.RoomID, bot, "Dieser Fall ist jetzt geschlossen")
	})

	// A case Anna resolves and nobody reopens is closed after
	// close_resolved_after; its retention starts then.
	sent, err = anna.Cli.SendText(ctx, staffRoom.RoomID, "!rathaus claim "+resolved.Reference)
	require.NoError(t, err)
	require.Contains(t, apptest.BotReplyTo(t, anna.Cli, staffRoom.RoomID, bot, sent.EventID), "ist jetzt Ihr Fall")
	tesths.WaitFor(t, 30*time.Second, "anna to join the resolved case's room", func() error {
		_, err := anna.Cli.JoinRoomByID(ctx, resolved.RoomID)
		return err
	})
	sent, err = anna.Cli.SendText(ctx, resolved.RoomID, "!rathaus resolve")
	require.NoError(t, err)
	apptest.BotReplyTo(t, anna.Cli, resolved.RoomID, bot, sent.EventID)
	stopResolved()

	t.Run("resolved case is closed after close_resolved_after", func(t *testing.T) {
		got := waitForStatus(t, s, resolved.ID, "closed")
		history, err := s.CaseHistory(ctx, resolved.ID)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(history), 2)
		last, before := history[len(history)-1], history[len(history)-2]
		assert.Equal(t, store.CaseTransition{From: "resolved", To: "closed", Action: "close", Actor: bot.String(), At: last.At}, last)
		assert.Equal(t, store.CaseTransition{From: "active", To: "resolved", Action: "resolve", Actor: anna.ID.String(), At: before.At}, before)
		assert.GreaterOrEqual(t, last.At.Sub(before.At), 2*time.Second, "not before close_resolved_after")
		assert.InDelta(t, time.Hour.Milliseconds(), got.RetainUntil.UnixMilli()-time.Now().UnixMilli(), float64(time.Minute.Milliseconds()),
			"keep_closed runs from the automatic close")
		tesths.WaitFor(t, 30*time.Second, "the automatic closing notice", func() error {
			return findMessage(ctx, anna.Cli, resolved.RoomID, bot, "Dieser erledigte Fall wurde automatisch geschlossen")
		})
		var state protocol.CaseContent
		require.NoError(t, anna.Cli.StateEvent(ctx, resolved.RoomID, protocol.CaseEventType, "", &state))
		assert.Equal(t, protocol.CaseClosed, state.Status)
	})

	// The running config's keep_closed applies at the next check.
	env.Extra = strings.Replace(env.Extra, retentionYAML("2s", "1h"), retentionYAML("2s", "2s"), 1)
	_, err = env.App.Reload(ctx)
	require.NoError(t, err)

	t.Run("closed case is purged", func(t *testing.T) {
		start := time.Now()
		got := waitForStatus(t, s, c.ID, "purged")
		t.Logf("purged %s after the reload", time.Since(start).Round(time.Millisecond))
		assert.Equal(t, c.Reference, got.Reference)
		assert.Equal(t, protocol.DepartmentID("bauamt"), got.Department)
		assert.Empty(t, got.RoomID, "the database forgets the room")
		assignees, err := s.CaseAssignees(ctx, c.ID)
		require.NoError(t, err)
		assert.Empty(t, assignees)
		history, err := s.CaseHistory(ctx, c.ID)
		require.NoError(t, err)
		assert.Equal(t, "purge", history[len(history)-1].Action)

		// Anna's own client: every message redacted, the room marked, and
		// she was removed.
		messages := 0
		from := ""
		for page := 0; page < 20; page++ {
			resp, err := anna.Cli.Messages(ctx, c.RoomID, from, "", mautrix.DirectionBackward, nil, 100)
			require.NoError(t, err)
			for _, evt := range resp.Chunk {
				if evt.StateKey != nil || evt.Type == event.EventRedaction {
					continue
				}
				messages++
				assert.Empty(t, evt.Content.Raw, "content of %s %s", evt.Type.Type, evt.ID)
				if assert.NotNil(t, evt.Unsigned.RedactedBecause, "%s %s is redacted", evt.Type.Type, evt.ID) {
					assert.Equal(t, bot, evt.Unsigned.RedactedBecause.Sender)
				}
			}
			if resp.End == "" || resp.End == from || len(resp.Chunk) == 0 {
				break
			}
			from = resp.End
		}
		// The citizen's and Anna's messages, the command, its answer, the
		// caseworker notice and the closing notice.
		assert.GreaterOrEqual(t, messages, 6)

		var name event.RoomNameEventContent
		require.NoError(t, anna.Cli.StateEvent(ctx, c.RoomID, event.StateRoomName, "", &name))
		assert.Equal(t, c.Reference+" (gelöscht)", name.Name)
		require.NoError(t, anna.Cli.StateEvent(ctx, c.RoomID, protocol.CaseEventType, "", &state))
		assert.Equal(t, protocol.CasePurged, state.Status)
		assert.Empty(t, state.Assignees)
		roomState, err := anna.Cli.State(ctx, c.RoomID)
		require.NoError(t, err)
		for _, u := range []id.UserID{anna.ID, c.Ghost} {
			member := roomState[event.StateMember][u.String()]
			if assert.NotNil(t, member, u.String()) {
				assert.Equal(t, event.MembershipLeave, member.Content.AsMember().Membership, u.String())
				assert.Equal(t, bot, member.Sender, "%s was kicked by the bot", u)
			}
		}

		var child event.SpaceChildEventContent
		require.NoError(t, botCli.StateEvent(ctx, space.RoomID, event.StateSpaceChild, c.RoomID.String(), &child))
		assert.Empty(t, child.Via, "the room left the department space")
		var profile event.MemberEventContent
		require.NoError(t, botCli.StateEvent(ctx, c.RoomID, event.StateMember, bot.String(), &profile))
		assert.Equal(t, event.MembershipLeave, profile.Membership, "the bot left")
		ghostName, err := botCli.GetDisplayName(ctx, c.Ghost)
		require.NoError(t, err)
		assert.Equal(t, "Bürger:in", ghostName.DisplayName, "the citizen's chosen name is gone from the profile")
	})

	t.Run("abandoned case is purged", func(t *testing.T) {
		waitForStatus(t, s, idle.ID, "purged")
		var state protocol.CaseContent
		require.NoError(t, botCli.StateEvent(ctx, idle.RoomID, protocol.CaseEventType, "", &state))
		assert.Equal(t, protocol.CasePurged, state.Status)
	})

	t.Run("automatically closed case is purged", func(t *testing.T) {
		waitForStatus(t, s, resolved.ID, "purged")
	})

	t.Run("interrupted purge is finished", func(t *testing.T) {
		// As if rathaus died after leaving the room but before the
		// database said purged.
		_, err := s.DB.Exec(ctx, `UPDATE citizen_case SET status = 'closed', room_id = $2 WHERE id = $1`, c.ID, c.RoomID)
		require.NoError(t, err)
		waitForStatus(t, s, c.ID, "purged")
		history, err := s.CaseHistory(ctx, c.ID)
		require.NoError(t, err)
		assert.Equal(t, "purge", history[len(history)-1].Action)
		assert.Equal(t, "purge", history[len(history)-2].Action)
	})
}
