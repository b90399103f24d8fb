package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/testpg"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

func seqsOf(t *testing.T, s *store.Store, c protocol.CaseID) []int64 {
	t.Helper()
	rows, err := s.CaseEventsAfter(context.Background(), c, 0, 1000)
	require.NoError(t, err)
	seqs := make([]int64, len(rows))
	for i, r := range rows {
		seqs[i] = r.Seq
	}
	return seqs
}

// A case's timeline counts from 1 without gaps, whatever other cases do:
// the citizen sees the seqs and must not learn how busy the authority is.
func TestCaseSeqsCountPerCase(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		mk := func(ghost string) protocol.CaseID {
			c, err := s.CreateCase(ctx, store.NewCase{ID: protocol.CaseID(uuid.NewString()), Department: "bau", Status: "queued",
				Ghost: id.UserID(ghost), Actor: "citizen", Reference: func(y, n int) string { return fmt.Sprintf("BAU-%d-%05d", y, n) }})
			require.NoError(t, err)
			return c.ID
		}
		a, b := mk("@a:hs"), mk("@b:hs")
		now := time.Now()
		add := func(c protocol.CaseID, evt string) bool {
			added, err := s.AddCaseEvent(ctx, store.CaseEvent{CaseID: c, EventID: id.EventID(evt), Kind: "text", Origin: "staff",
				Body: evt, TS: now, Seq: 99})
			require.NoError(t, err)
			return added
		}
		add(a, "$a1")
		add(b, "$b1")
		add(a, "$a2")
		assert.False(t, add(a, "$a2"), "a redelivery")
		assert.False(t, add(b, "$a1"), "an event of another case")
		add(b, "$b2")
		add(a, "$a3")
		assert.Equal(t, []int64{1, 2, 3}, seqsOf(t, s, a), "a redelivery leaves no gap")
		assert.Equal(t, []int64{1, 2}, seqsOf(t, s, b))

		seq, err := s.CaseEventSeq(ctx, b, "$b2")
		require.NoError(t, err)
		assert.Equal(t, int64(2), seq)
		e, err := s.GetCaseEvent(ctx, a, 2)
		require.NoError(t, err)
		require.NotNil(t, e)
		assert.Equal(t, "$a2", e.Body)
		rest, err := s.CaseEventsAfter(ctx, a, 1, 10)
		require.NoError(t, err)
		require.Len(t, rest, 2)
		assert.Equal(t, "$a2", rest[0].Body)

		// A change row takes the next seq and points at its target's.
		changed, err := s.EditCaseEvent(ctx, b, "$b1", "staff", "neu", store.CaseEvent{EventID: "$edit", TS: now})
		require.NoError(t, err)
		require.True(t, changed)
		changed, err = s.RedactCaseEvent(ctx, b, "$b1", store.CaseEvent{EventID: "$edit", TS: now})
		require.NoError(t, err)
		require.False(t, changed, "a redelivered change")
		rows, err := s.CaseEventsAfter(ctx, b, 2, 10)
		require.NoError(t, err)
		require.Len(t, rows, 1)
		assert.Equal(t, int64(3), rows[0].Seq)
		assert.Equal(t, int64(1), rows[0].TargetSeq)
		assert.Equal(t, []int64{1, 2, 3}, seqsOf(t, s, b))
	})
}

// Rows of one case written at the same time still get one seq each.
func TestCaseSeqsConcurrent(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		c, err := s.CreateCase(ctx, store.NewCase{ID: protocol.CaseID(uuid.NewString()), Department: "bau", Status: "queued",
			Ghost: "@a:hs", Actor: "citizen", Reference: func(y, n int) string { return fmt.Sprintf("BAU-%d-%05d", y, n) }})
		require.NoError(t, err)
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each event twice, as a redelivery racing the first delivery.
				for range 2 {
					_, err := s.AddCaseEvent(ctx, store.CaseEvent{CaseID: c.ID, EventID: id.EventID(fmt.Sprintf("$e%d", i)),
						Kind: "text", Origin: "staff", TS: time.Now()})
					assert.NoError(t, err)
				}
			}()
		}
		wg.Wait()
		want := make([]int64, n)
		for i := range want {
			want[i] = int64(i + 1)
		}
		assert.Equal(t, want, seqsOf(t, s, c.ID))
	})
}

// A database of schema v9 counted seq across cases; the upgrade numbers
// each case's rows from 1 in their order, points change rows at their
// target's new seq, and new rows continue each case's count.
func TestCaseSeqsUpgrade(t *testing.T) {
	run := func(t *testing.T, typ, uri string) {
		t.Helper()
		ctx := context.Background()
		old, err := store.OpenAtVersion(ctx, typ, uri, 9)
		require.NoError(t, err)
		for _, q := range []string{
			`INSERT INTO citizen_case (id, reference, department, status, ghost_user_id, created_at, updated_at)
				VALUES ('A', 'BAU-1', 'bau', 'active', '@a:hs', 1, 1), ('B', 'BAU-2', 'bau', 'active', '@b:hs', 1, 1),
				('C', 'BAU-3', 'bau', 'queued', '@c:hs', 1, 1)`,
			`INSERT INTO case_event (seq, case_id, event_id, kind, origin, body, ts) VALUES
				(5, 'A', '$a1', 'text', 'citizen', 'a1', 1), (6, 'B', '$b1', 'text', 'staff', 'b1', 2),
				(7, 'A', '$a2', 'text', 'staff', 'a2', 3), (9, 'B', '$b2', 'file', 'staff', 'b2', 4)`,
			`INSERT INTO case_event (seq, case_id, event_id, kind, origin, ts, target_seq) VALUES
				(10, 'A', '$edit', 'edit', 'staff', 5, 7), (11, 'B', '$redact', 'redaction', 'system', 6, 9)`,
		} {
			_, err = old.Exec(ctx, q)
			require.NoError(t, err, q)
		}
		require.NoError(t, old.Close())

		s := openStore(t, typ, uri)
		a, err := s.CaseEventsAfter(ctx, "A", 0, 10)
		require.NoError(t, err)
		require.Len(t, a, 3)
		assert.Equal(t, []int64{1, 2, 3}, []int64{a[0].Seq, a[1].Seq, a[2].Seq})
		assert.Equal(t, []string{"a1", "a2", ""}, []string{a[0].Body, a[1].Body, a[2].Body})
		assert.Equal(t, int64(2), a[2].TargetSeq, "the edit points at a2")
		b, err := s.CaseEventsAfter(ctx, "B", 0, 10)
		require.NoError(t, err)
		require.Len(t, b, 3)
		assert.Equal(t, []int64{1, 2, 3}, []int64{b[0].Seq, b[1].Seq, b[2].Seq})
		assert.Equal(t, int64(2), b[2].TargetSeq, "the redaction points at b2")

		for _, c := range []protocol.CaseID{"A", "C"} {
			added, err := s.AddCaseEvent(ctx, store.CaseEvent{CaseID: c, EventID: id.EventID("$new-" + string(c)), Kind: "status",
				Origin: "system", Body: "active", TS: time.Now()})
			require.NoError(t, err)
			require.True(t, added)
		}
		assert.Equal(t, []int64{1, 2, 3, 4}, seqsOf(t, s, "A"))
		assert.Equal(t, []int64{1}, seqsOf(t, s, "C"), "a case without rows starts at 1")
	}
	t.Run("sqlite", func(t *testing.T) { run(t, store.TypeSQLite, filepath.Join(t.TempDir(), "rathaus.db")) })
	t.Run("postgres", func(t *testing.T) { run(t, store.TypePostgres, testpg.New(t)) })
}
