package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

func newCase(s *store.Store, ctx context.Context, caseID protocol.CaseID, dept protocol.DepartmentID) (*store.Case, error) {
	return s.CreateCase(ctx, store.NewCase{
		ID: caseID, Department: dept, Status: "queued", Ghost: id.UserID("@_rathaus_guest_" + caseID + ":hs"), Actor: "citizen",
		Reference: func(year, seq int) string { return fmt.Sprintf("%s-%d-%05d", dept, year, seq) },
	})
}

func TestCases(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		year := time.Now().Year()
		a, err := newCase(s, ctx, "c1", "BAU")
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("BAU-%d-00001", year), a.Reference)
		b, err := newCase(s, ctx, "c2", "BAU")
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("BAU-%d-00002", year), b.Reference, "running number per department")
		c, err := newCase(s, ctx, "c3", "BB")
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("BB-%d-00001", year), c.Reference)

		require.NoError(t, s.SetCaseRoom(ctx, "c1", "!room:hs"))
		require.NoError(t, s.SetCaseRoom(ctx, "c1", "!other:hs"), "second call is a no-op")
		got, err := s.GetCaseByRoom(ctx, "!room:hs")
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, protocol.CaseID("c1"), got.ID)
		rooms, err := s.CaseRooms(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[id.RoomID]protocol.CaseID{"!room:hs": "c1"}, rooms, "cases without a room are not listed")

		require.NoError(t, s.TransitionCase(ctx, "c1", "queued", "active", "claim", "@anna:hs"))
		assert.ErrorIs(t, s.TransitionCase(ctx, "c1", "queued", "active", "claim", "@bernd:hs"), store.ErrConflict)
		got, err = s.GetCaseByReference(ctx, a.Reference)
		require.NoError(t, err)
		assert.Equal(t, protocol.CaseActive, got.Status)
		history, err := s.CaseHistory(ctx, "c1")
		require.NoError(t, err)
		require.Len(t, history, 2)
		assert.Equal(t, store.CaseTransition{From: "", To: "queued", Action: "open", Actor: "citizen", At: history[0].At}, history[0])
		assert.Equal(t, store.CaseTransition{From: "queued", To: "active", Action: "claim", Actor: "@anna:hs", At: history[1].At}, history[1])

		missing, err := s.GetCase(ctx, "nope")
		require.NoError(t, err)
		assert.Nil(t, missing)
	})
}

// TestConcurrentClaims: of many simultaneous claims exactly one wins, and
// concurrent case openings get distinct references.
func TestConcurrentClaims(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		var wg sync.WaitGroup
		refs := sync.Map{}
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := newCase(s, ctx, protocol.CaseID(fmt.Sprintf("k%d", i)), "BAU")
				if assert.NoError(t, err) {
					_, dup := refs.LoadOrStore(c.Reference, true)
					assert.False(t, dup, "reference %s given twice", c.Reference)
				}
			}()
		}
		wg.Wait()
		var winners atomic.Int32
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.TransitionCase(ctx, "k0", "queued", "active", "claim", fmt.Sprintf("@staff%d:hs", i))
				if err == nil {
					winners.Add(1)
				} else {
					assert.ErrorIs(t, err, store.ErrConflict)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int32(1), winners.Load())
	})
}

func TestCaseAssignees(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		for _, c := range []protocol.CaseID{"a", "b"} {
			_, err := newCase(s, ctx, c, "BAU")
			require.NoError(t, err)
			require.NoError(t, s.AddCaseAssignee(ctx, c, "@anna:hs"))
		}
		require.NoError(t, s.AddCaseAssignee(ctx, "a", "@anna:hs"), "idempotent")
		n, err := s.OpenCasesOf(ctx, "@anna:hs")
		require.NoError(t, err)
		assert.Zero(t, n, "queued cases do not count")
		require.NoError(t, s.TransitionCase(ctx, "a", "queued", "active", "claim", "@anna:hs"))
		require.NoError(t, s.TransitionCase(ctx, "b", "queued", "active", "claim", "@anna:hs"))
		require.NoError(t, s.TransitionCase(ctx, "b", "active", "closed", "close", "@anna:hs"))
		n, err = s.OpenCasesOf(ctx, "@anna:hs")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		got, err := s.CaseAssignees(ctx, "a")
		require.NoError(t, err)
		assert.Equal(t, []id.UserID{"@anna:hs"}, got)
	})
}

func TestTransferCase(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		_, err := newCase(s, ctx, "t1", "bauamt")
		require.NoError(t, err)
		require.NoError(t, s.AddCaseAssignee(ctx, "t1", "@anna:hs"))
		require.NoError(t, s.TransitionCase(ctx, "t1", "queued", "active", "claim", "@anna:hs"))
		require.NoError(t, s.TransferCase(ctx, "t1", "active", "queued", "buergerbuero", "@anna:hs"))
		assert.ErrorIs(t, s.TransferCase(ctx, "t1", "active", "queued", "buergerbuero", "@anna:hs"), store.ErrConflict)
		c, err := s.GetCase(ctx, "t1")
		require.NoError(t, err)
		assert.Equal(t, protocol.DepartmentID("buergerbuero"), c.Department)
		assert.Equal(t, protocol.CaseQueued, c.Status)
		assignees, err := s.CaseAssignees(ctx, "t1")
		require.NoError(t, err)
		assert.Empty(t, assignees)
	})
}
