package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

func TestGuestSessions(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		require.NoError(t, s.CreateGuestSession(ctx, "h1", time.Now().Add(time.Hour)))
		require.NoError(t, s.CreateGuestSession(ctx, "old", time.Now().Add(-time.Second)))

		gs, err := s.GetGuestSession(ctx, "h1")
		require.NoError(t, err)
		require.NotNil(t, gs)
		assert.Empty(t, gs.CaseID)

		gone, err := s.GetGuestSession(ctx, "old")
		require.NoError(t, err)
		assert.Nil(t, gone, "an expired session is not returned")
		missing, err := s.GetGuestSession(ctx, "nope")
		require.NoError(t, err)
		assert.Nil(t, missing)

		later := time.Now().Add(48 * time.Hour)
		require.NoError(t, s.TouchGuestSession(ctx, "h1", later))
		gs, err = s.GetGuestSession(ctx, "h1")
		require.NoError(t, err)
		assert.Equal(t, later.UnixMilli(), gs.ExpiresAt.UnixMilli())

		require.NoError(t, s.PruneGuestSessions(ctx, time.Now()))
		require.NoError(t, s.DeleteGuestSession(ctx, "h1"))
		gs, err = s.GetGuestSession(ctx, "h1")
		require.NoError(t, err)
		assert.Nil(t, gs)
	})
}

// Ten concurrent openings from one session make exactly one case.
func TestOneCasePerSession(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		require.NoError(t, s.CreateGuestSession(ctx, "sess", time.Now().Add(time.Hour)))
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []*store.Case
		conflicts := 0
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := s.CreateCase(ctx, store.NewCase{ID: protocol.CaseID(uuid.NewString()), Department: "bauamt", Status: "queued",
					Ghost: id.UserID(fmt.Sprintf("@_rathaus_guest_%d:hs", i)), Actor: "citizen", Session: "sess",
					Reference: func(y, n int) string { return fmt.Sprintf("BAU-%d-%05d", y, n) }})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, c)
				case errors.Is(err, store.ErrConflict):
					conflicts++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		require.Len(t, won, 1)
		assert.Equal(t, 9, conflicts)
		gs, err := s.GetGuestSession(ctx, "sess")
		require.NoError(t, err)
		assert.Equal(t, won[0].ID, gs.CaseID)
		var n int
		require.NoError(t, s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM citizen_case`).Scan(&n))
		assert.Equal(t, 1, n, "the losers' cases were rolled back")
	})
}

func TestCaseTimeline(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		mk := func(dep protocol.DepartmentID, ghost string) *store.Case {
			c, err := s.CreateCase(ctx, store.NewCase{ID: protocol.CaseID(uuid.NewString()), Department: dep, Status: "queued",
				Ghost: id.UserID(ghost), Actor: "citizen", Reference: func(y, n int) string { return fmt.Sprintf("%s-%d-%05d", dep, y, n) }})
			require.NoError(t, err)
			return c
		}
		a, b, other := mk("bau", "@a:hs"), mk("bau", "@b:hs"), mk("bue", "@c:hs")
		pos := func(c *store.Case) int {
			p, err := s.QueuePosition(ctx, c.ID)
			require.NoError(t, err)
			return p
		}
		assert.Equal(t, []int{1, 2, 1}, []int{pos(a), pos(b), pos(other)})
		require.NoError(t, s.TransitionCase(ctx, a.ID, "queued", "active", "claim", "@x:hs"))
		assert.Equal(t, []int{0, 1}, []int{pos(a), pos(b)})

		now := time.Now()
		added, err := s.AddCaseEvent(ctx, store.CaseEvent{CaseID: a.ID, EventID: "$1", Kind: "text", Origin: "citizen", TxnID: "t1", Body: "<script>x</script>", TS: now})
		require.NoError(t, err)
		assert.True(t, added)
		added, err = s.AddCaseEvent(ctx, store.CaseEvent{CaseID: a.ID, EventID: "$1", Kind: "text", Origin: "citizen", Body: "again", TS: now})
		require.NoError(t, err)
		assert.False(t, added, "a redelivered event is stored once")
		_, err = s.AddCaseEvent(ctx, store.CaseEvent{CaseID: b.ID, EventID: "$2", Kind: "text", Origin: "staff", Body: "other case", TS: now})
		require.NoError(t, err)
		_, err = s.AddCaseEvent(ctx, store.CaseEvent{CaseID: a.ID, EventID: "$3", Kind: "file", Origin: "staff", Body: "plan.pdf",
			MediaURI: "mxc://hs/abc", MediaType: "application/pdf", MediaName: "plan.pdf", MediaSize: 123, TS: now})
		require.NoError(t, err)
		_, err = s.AddCaseEvent(ctx, store.CaseEvent{CaseID: a.ID, EventID: "$4", Kind: "status", Origin: "system", Body: "active", TS: now})
		require.NoError(t, err)

		all, err := s.CaseEventsAfter(ctx, a.ID, 0, 100)
		require.NoError(t, err)
		require.Len(t, all, 3)
		assert.Equal(t, "<script>x</script>", all[0].Body)
		assert.Equal(t, "t1", all[0].TxnID)
		assert.Equal(t, id.ContentURIString("mxc://hs/abc"), all[1].MediaURI)
		assert.Less(t, all[0].Seq, all[1].Seq)
		rest, err := s.CaseEventsAfter(ctx, a.ID, all[0].Seq, 100)
		require.NoError(t, err)
		assert.Len(t, rest, 2, "resuming after a seq returns exactly what followed")

		e, err := s.GetCaseEvent(ctx, a.ID, all[1].Seq)
		require.NoError(t, err)
		assert.Equal(t, int64(123), e.MediaSize)
		e, err = s.GetCaseEvent(ctx, b.ID, all[1].Seq)
		require.NoError(t, err)
		assert.Nil(t, e, "an event is only found through its own case")

		st, err := s.LastCaseStatusEvent(ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, "active", st)
		require.NoError(t, s.TouchCitizen(ctx, a.ID, now))
	})
}

// TestCaseEventChanges: staff edits and redactions change the row the
// citizen sees and append a change row pointing at it; nothing else.
func TestCaseEventChanges(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		c, err := s.CreateCase(ctx, store.NewCase{ID: protocol.CaseID(uuid.NewString()), Department: "bau", Status: "queued",
			Ghost: "@g:hs", Actor: "citizen", Reference: func(y, n int) string { return fmt.Sprintf("BAU-%d-%05d", y, n) }})
		require.NoError(t, err)
		other, err := s.CreateCase(ctx, store.NewCase{ID: protocol.CaseID(uuid.NewString()), Department: "bau", Status: "queued",
			Ghost: "@h:hs", Actor: "citizen", Reference: func(y, n int) string { return fmt.Sprintf("BAU-%d-%05d", y, n) }})
		require.NoError(t, err)
		now := time.Now().Truncate(time.Millisecond)
		add := func(caseID protocol.CaseID, e store.CaseEvent) {
			e.CaseID, e.TS = caseID, now
			_, err := s.AddCaseEvent(ctx, e)
			require.NoError(t, err)
		}
		add(c.ID, store.CaseEvent{EventID: "$citizen", Kind: "text", Origin: "citizen", TxnID: "t1", Body: "Frage"})
		add(c.ID, store.CaseEvent{EventID: "$staff", Kind: "text", Origin: "staff", Body: "Antwort mit Tippfehler"})
		add(c.ID, store.CaseEvent{EventID: "$file", Kind: "file", Origin: "staff", Body: "falsch.pdf",
			MediaURI: "mxc://hs/wrong", MediaType: "application/pdf", MediaName: "falsch.pdf", MediaSize: 9})
		add(c.ID, store.CaseEvent{EventID: "$status", Kind: "status", Origin: "system", Body: "active"})
		add(other.ID, store.CaseEvent{EventID: "$elsewhere", Kind: "text", Origin: "staff", Body: "anderer Fall"})
		change := func(eventID string) store.CaseEvent {
			return store.CaseEvent{EventID: id.EventID(eventID), TS: now.Add(time.Second)}
		}

		changed, err := s.EditCaseEvent(ctx, c.ID, "$staff", "staff", "Antwort ohne Tippfehler", change("$edit1"))
		require.NoError(t, err)
		assert.True(t, changed)
		changed, err = s.EditCaseEvent(ctx, c.ID, "$staff", "staff", "nochmal", change("$edit1"))
		require.NoError(t, err)
		assert.False(t, changed, "a redelivered edit changes nothing")
		changed, err = s.EditCaseEvent(ctx, c.ID, "$citizen", "staff", "untergeschoben", change("$edit2"))
		require.NoError(t, err)
		assert.False(t, changed, "staff cannot edit the citizen's words")
		changed, err = s.EditCaseEvent(ctx, c.ID, "$elsewhere", "staff", "quer", change("$edit3"))
		require.NoError(t, err)
		assert.False(t, changed, "an event of another case is not touched")

		changed, err = s.RedactCaseEvent(ctx, c.ID, "$file", change("$redact1"))
		require.NoError(t, err)
		assert.True(t, changed)
		changed, err = s.RedactCaseEvent(ctx, c.ID, "$file", change("$redact2"))
		require.NoError(t, err)
		assert.False(t, changed, "a redacted message stays redacted, once")
		changed, err = s.RedactCaseEvent(ctx, c.ID, "$status", change("$redact3"))
		require.NoError(t, err)
		assert.False(t, changed, "status rows are not messages")
		changed, err = s.RedactCaseEvent(ctx, c.ID, "$unknown", change("$redact4"))
		require.NoError(t, err)
		assert.False(t, changed)

		all, err := s.CaseEventsAfter(ctx, c.ID, 0, 100)
		require.NoError(t, err)
		require.Len(t, all, 6)
		citizenRow, staffRow, fileRow, edit, redaction := all[0], all[1], all[2], all[4], all[5]
		assert.Equal(t, "Frage", citizenRow.Body)
		assert.Equal(t, "Antwort ohne Tippfehler", staffRow.Body)
		assert.Equal(t, now.Add(time.Second), staffRow.EditedAt)
		assert.Equal(t, "redacted", fileRow.Kind)
		assert.Empty(t, fileRow.Body, "the file's name is gone")
		assert.Empty(t, fileRow.MediaURI)
		assert.Empty(t, fileRow.MediaName)
		assert.Equal(t, store.CaseEvent{Seq: edit.Seq, CaseID: c.ID, EventID: "$edit1", Kind: "edit", Origin: "staff",
			TS: now.Add(time.Second), TargetSeq: staffRow.Seq}, edit)
		assert.Equal(t, store.CaseEvent{Seq: redaction.Seq, CaseID: c.ID, EventID: "$redact1", Kind: "redaction", Origin: "system",
			TS: now.Add(time.Second), TargetSeq: fileRow.Seq}, redaction)
		rest, err := s.CaseEventsAfter(ctx, other.ID, 0, 100)
		require.NoError(t, err)
		require.Len(t, rest, 1)
		assert.Equal(t, "anderer Fall", rest[0].Body)
	})
}
