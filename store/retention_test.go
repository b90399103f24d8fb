package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// endTimes reads closed_at and retain_until (0 for NULL).
func endTimes(t *testing.T, s *store.Store, caseID string) (closedAt, retainUntil int64) {
	t.Helper()
	var c, r sql.NullInt64
	require.NoError(t, s.DB.QueryRow(context.Background(),
		`SELECT closed_at, retain_until FROM citizen_case WHERE id = $1`, caseID).Scan(&c, &r))
	return c.Int64, r.Int64
}

// TestCaseEndTimes: entering an ended status starts the retention clock,
// reopening or transferring inside the authority stops it, purging keeps it.
func TestCaseEndTimes(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		_, err := newCase(s, ctx, "c1", "BAU")
		require.NoError(t, err)
		until, err := s.RetainClosedCase(ctx, "c1", time.Hour)
		require.NoError(t, err)
		assert.True(t, until.IsZero(), "an open case has no retention")

		before := time.Now().UnixMilli()
		require.NoError(t, s.TransitionCase(ctx, "c1", "queued", "closed", "close", "@anna:hs"))
		closedAt, retain := endTimes(t, s, "c1")
		assert.GreaterOrEqual(t, closedAt, before)
		assert.Zero(t, retain, "the cases package sets retain_until")
		until, err = s.RetainClosedCase(ctx, "c1", time.Hour)
		require.NoError(t, err)
		assert.Equal(t, closedAt+time.Hour.Milliseconds(), until.UnixMilli())
		got, err := s.GetCase(ctx, "c1")
		require.NoError(t, err)
		assert.Equal(t, until, got.RetainUntil)

		require.NoError(t, s.TransitionCase(ctx, "c1", "closed", "active", "reopen", "@anna:hs"))
		closedAt, retain = endTimes(t, s, "c1")
		assert.Zero(t, closedAt, "reopening stops the clock")
		assert.Zero(t, retain)

		require.NoError(t, s.TransferCase(ctx, "c1", "active", "transferred", "ANDERE", "@anna:hs"))
		closedAt, _ = endTimes(t, s, "c1")
		assert.NotZero(t, closedAt, "handed over counts as ended")
		_, err = s.RetainClosedCase(ctx, "c1", time.Minute)
		require.NoError(t, err)
		_, err = s.PurgeCase(ctx, "c1", "transferred", "@rathaus:hs")
		require.NoError(t, err)
		afterPurge, retain := endTimes(t, s, "c1")
		assert.Equal(t, closedAt, afterPurge, "purging keeps the end time")
		assert.Equal(t, closedAt+time.Minute.Milliseconds(), retain)

		_, err = newCase(s, ctx, "c2", "BAU")
		require.NoError(t, err)
		require.NoError(t, s.TransitionCase(ctx, "c2", "queued", "abandoned", "abandon", "@rathaus:hs"))
		require.NoError(t, s.TransferCase(ctx, "c2", "abandoned", "queued", "BB", "@anna:hs"))
		closedAt, _ = endTimes(t, s, "c2")
		assert.Zero(t, closedAt, "a transfer into a queue stops the clock")
	})
}

// TestIdleAndDueCases: which cases the retention loop picks up.
func TestIdleAndDueCases(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		now := time.Now()
		ago := func(d time.Duration) int64 { return now.Add(-d).UnixMilli() }
		for _, tc := range []struct {
			id                           protocol.CaseID
			status                       string
			created, lastCitizen, closed int64 // 0: NULL (created: now)
		}{
			{id: "silent", status: "queued", created: ago(time.Hour)},
			{id: "talking", status: "active", created: ago(time.Hour), lastCitizen: ago(time.Minute)},
			{id: "was-talking", status: "awaiting_citizen", created: ago(2 * time.Hour), lastCitizen: ago(time.Hour)},
			{id: "fresh", status: "queued"},
			{id: "resolved", status: "resolved", created: ago(time.Hour)},
			{id: "resolved-now", status: "resolved", created: ago(0)},
			{id: "resolved-long-ago", status: "resolved", created: ago(3 * time.Hour)},
			{id: "closed-long-ago", status: "closed", created: ago(2 * time.Hour), closed: ago(time.Hour)},
			{id: "closed-now", status: "closed", created: ago(2 * time.Hour), closed: ago(0)},
			// Ended before schema v8: no closed_at, updated_at says when.
			{id: "abandoned-pre-v8", status: "abandoned", created: ago(3 * time.Hour)},
			{id: "transferred", status: "transferred", created: ago(2 * time.Hour), closed: ago(30 * time.Minute)},
			{id: "purged", status: "purged", created: ago(5 * time.Hour), closed: ago(4 * time.Hour)},
		} {
			_, err := newCase(s, ctx, tc.id, "BAU")
			require.NoError(t, err)
			created := tc.created
			if created == 0 {
				created = now.UnixMilli()
			}
			null := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }
			_, err = s.DB.Exec(ctx, `UPDATE citizen_case SET status = $2, created_at = $3, updated_at = $3,
				last_citizen_at = $4, closed_at = $5 WHERE id = $1`, tc.id, tc.status, created, null(tc.lastCitizen), null(tc.closed))
			require.NoError(t, err)
		}

		idle, err := s.IdleCases(ctx, now.Add(-10*time.Minute), 100)
		require.NoError(t, err)
		assert.Equal(t, []protocol.CaseID{"was-talking", "silent"}, idle, "oldest first; activity counts, not opening")
		idle, err = s.IdleCases(ctx, now.Add(-10*time.Minute), 1)
		require.NoError(t, err)
		assert.Equal(t, []protocol.CaseID{"was-talking"}, idle, "limited")

		resolved, err := s.ResolvedCases(ctx, now.Add(-10*time.Minute), 100)
		require.NoError(t, err)
		assert.Equal(t, []protocol.CaseID{"resolved-long-ago", "resolved"}, resolved, "longest resolved first")
		resolved, err = s.ResolvedCases(ctx, now.Add(-10*time.Minute), 1)
		require.NoError(t, err)
		assert.Equal(t, []protocol.CaseID{"resolved-long-ago"}, resolved, "limited")

		due, err := s.CasesDueForPurge(ctx, now.Add(-10*time.Minute), 100)
		require.NoError(t, err)
		assert.Equal(t, []protocol.CaseID{"abandoned-pre-v8", "closed-long-ago", "transferred"}, due)
		due, err = s.CasesDueForPurge(ctx, now.Add(-45*time.Minute), 100)
		require.NoError(t, err)
		assert.Equal(t, []protocol.CaseID{"abandoned-pre-v8", "closed-long-ago"}, due)
	})
}

// TestPurgeCase: the timeline, sessions and caseworkers go; the row keeps
// reference, department, status and times; other cases are untouched.
func TestPurgeCase(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		for _, caseID := range []protocol.CaseID{"gone", "kept"} {
			_, err := newCase(s, ctx, caseID, "BAU")
			require.NoError(t, err)
			require.NoError(t, s.SetCaseRoom(ctx, caseID, id.RoomID("!"+caseID+":hs")))
			require.NoError(t, s.TransitionCase(ctx, caseID, "queued", "active", "claim", "@anna:hs"))
			require.NoError(t, s.AddCaseAssignee(ctx, caseID, "@anna:hs"))
			_, err = s.DB.Exec(ctx, `INSERT INTO guest_session (token_hash, case_id, created_at, last_seen_at, expires_at)
				VALUES ($1, $2, 1, 1, 2)`, "token-"+caseID, caseID)
			require.NoError(t, err)
			for i, body := range []string{"Mein Bauantrag", "Danke"} {
				_, err = s.AddCaseEvent(ctx, store.CaseEvent{CaseID: caseID, EventID: id.EventID("$" + caseID.String() + string(rune('a'+i))),
					Kind: "text", Origin: "citizen", Body: body, TS: time.UnixMilli(int64(i))})
				require.NoError(t, err)
			}
		}

		_, err := s.PurgeCase(ctx, "gone", "active", "@rathaus:hs")
		assert.ErrorIs(t, err, store.ErrInvalidValue, "an open case is never purged")
		_, err = s.PurgeCase(ctx, "gone", "closed", "@rathaus:hs")
		assert.ErrorIs(t, err, store.ErrConflict, "the case is not closed")

		require.NoError(t, s.TransitionCase(ctx, "gone", "active", "closed", "close", "@anna:hs"))
		before, err := s.GetCase(ctx, "gone")
		require.NoError(t, err)
		res, err := s.PurgeCase(ctx, "gone", "closed", "@rathaus:hs")
		require.NoError(t, err)
		assert.Equal(t, store.PurgeResult{Events: 2, Sessions: 1}, res)
		_, err = s.PurgeCase(ctx, "gone", "closed", "@rathaus:hs")
		assert.ErrorIs(t, err, store.ErrConflict, "a second purge changes nothing")

		got, err := s.GetCase(ctx, "gone")
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, protocol.CasePurged, got.Status)
		assert.Equal(t, before.Reference, got.Reference)
		assert.Equal(t, protocol.DepartmentID("BAU"), got.Department)
		assert.Equal(t, before.CreatedAt, got.CreatedAt)
		assert.Empty(t, got.RoomID, "the room is forgotten")
		rooms, err := s.CaseRooms(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[id.RoomID]protocol.CaseID{"!kept:hs": "kept"}, rooms, "a purged case has no room any more")
		assignees, err := s.CaseAssignees(ctx, "gone")
		require.NoError(t, err)
		assert.Empty(t, assignees)
		history, err := s.CaseHistory(ctx, "gone")
		require.NoError(t, err)
		last := history[len(history)-1]
		assert.Equal(t, store.CaseTransition{From: "closed", To: "purged", Action: "purge", Actor: "@rathaus:hs", At: last.At}, last)

		count := func(query string, caseID protocol.CaseID) int {
			var n int
			require.NoError(t, s.DB.QueryRow(ctx, query, caseID).Scan(&n))
			return n
		}
		for caseID, want := range map[protocol.CaseID][2]int{"gone": {0, 0}, "kept": {2, 1}} {
			assert.Equal(t, want[0], count(`SELECT COUNT(*) FROM case_event WHERE case_id = $1`, caseID), caseID)
			assert.Equal(t, want[1], count(`SELECT COUNT(*) FROM guest_session WHERE case_id = $1`, caseID), caseID)
		}
		kept, err := s.CaseAssignees(ctx, "kept")
		require.NoError(t, err)
		assert.Len(t, kept, 1)
	})
}
