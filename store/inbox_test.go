package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/store"
)

func ev(room, eventID string) store.InboxEvent {
	return store.InboxEvent{
		EventID: id.EventID(eventID), RoomID: id.RoomID(room), Type: "m.room.message",
		Payload: []byte(fmt.Sprintf(`{"event_id":%q,"room_id":%q,"type":"m.room.message"}`, eventID, room)),
	}
}

func TestInboxDeduplicates(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		res, err := s.SaveTransaction(ctx, "t1", []store.InboxEvent{ev("!a:x", "$1"), ev("!a:x", "$2")})
		require.NoError(t, err)
		assert.Equal(t, store.SaveResult{Stored: 2, Pending: 2}, res)

		res, err = s.SaveTransaction(ctx, "t1", []store.InboxEvent{ev("!a:x", "$1"), ev("!a:x", "$2")})
		require.NoError(t, err)
		assert.Equal(t, store.SaveResult{DuplicateTxn: true}, res, "a redelivered transaction writes nothing")

		res, err = s.SaveTransaction(ctx, "t1", []store.InboxEvent{ev("!a:x", "$2"), ev("!a:x", "$9")})
		require.NoError(t, err)
		assert.Equal(t, store.SaveResult{DuplicateTxn: true, Stored: 1, Pending: 1}, res, "a reused transaction id loses no new event")

		res, err = s.SaveTransaction(ctx, "t2", []store.InboxEvent{ev("!a:x", "$2"), ev("!a:x", "$3")})
		require.NoError(t, err)
		assert.Equal(t, store.SaveResult{Stored: 1, Pending: 1}, res, "an event id seen in another transaction is not stored again")

		n, err := s.CountInbox(ctx, store.InboxPending)
		require.NoError(t, err)
		assert.Equal(t, 4, n)
	})
}

func TestInboxOrderAndStates(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		_, err := s.SaveTransaction(ctx, "t1", []store.InboxEvent{ev("!a:x", "$a1"), ev("!b:x", "$b1"), ev("!a:x", "$a2")})
		require.NoError(t, err)
		_, err = s.SaveTransaction(ctx, "t2", []store.InboxEvent{ev("!a:x", "$a3"), ev("!a:x", "$a4")})
		require.NoError(t, err)

		rooms, err := s.PendingRooms(ctx, time.Now())
		require.NoError(t, err)
		assert.ElementsMatch(t, []id.RoomID{"!a:x", "!b:x"}, rooms)

		batch, err := s.NextBatch(ctx, "!a:x", time.Now(), 2)
		require.NoError(t, err)
		assert.Equal(t, []id.EventID{"$a1", "$a2"}, eventIDs(batch), "a batch is the room's oldest events, in arrival order, up to the limit")
		assert.JSONEq(t, string(ev("!a:x", "$a1").Payload), string(batch[0].Payload))
		all := store.SeqRange{From: batch[0].Seq, To: batch[1].Seq}
		require.NoError(t, s.StartBatch(ctx, "!a:x", all))

		// $a1 was handled, $a2 failed: $a1 is done, $a2 waits first in line.
		retryAt := time.Now().Add(time.Hour)
		n, err := s.FinishBatch(ctx, store.BatchOutcome{RoomID: "!a:x",
			Done:   store.SeqRange{From: batch[0].Seq, To: batch[0].Seq},
			Failed: &store.FailedEvent{Seq: batch[1].Seq, Reason: "boom", NextAttempt: retryAt}})
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		again, err := s.NextBatch(ctx, "!a:x", time.Now(), 10)
		require.NoError(t, err)
		assert.Empty(t, again, "a room waiting for a retry gives nothing, later events included")
		rooms, err = s.PendingRooms(ctx, time.Now())
		require.NoError(t, err)
		assert.Equal(t, []id.RoomID{"!b:x"}, rooms, "a room waiting for a retry is not due")
		due, err := s.NextDue(ctx, time.Now())
		require.NoError(t, err)
		assert.Equal(t, retryAt.UnixMilli(), due.UnixMilli())
		rooms, err = s.PendingRooms(ctx, retryAt)
		require.NoError(t, err)
		assert.ElementsMatch(t, []id.RoomID{"!a:x", "!b:x"}, rooms, "due again at the retry time")

		again, err = s.NextBatch(ctx, "!a:x", retryAt, 10)
		require.NoError(t, err)
		require.Equal(t, []id.EventID{"$a2"}, eventIDs(again), "an event attempted before runs alone")
		assert.Equal(t, 1, again[0].Attempts)
		assert.Equal(t, retryAt.UnixMilli(), again[0].NextAttemptAt.UnixMilli())
		require.NoError(t, s.StartBatch(ctx, "!a:x", store.SeqRange{From: again[0].Seq, To: again[0].Seq}))
		n, err = s.FinishBatch(ctx, store.BatchOutcome{RoomID: "!a:x", Failed: &store.FailedEvent{Seq: again[0].Seq, Reason: "gave up", Park: true}})
		require.NoError(t, err)
		assert.Zero(t, n)

		// $a3 and $a4 are counted, $a3 is handled, the dispatcher stops
		// before $a4: $a4 gets its attempt back and may join a batch again.
		batch, err = s.NextBatch(ctx, "!a:x", time.Now(), 10)
		require.NoError(t, err)
		require.Equal(t, []id.EventID{"$a3", "$a4"}, eventIDs(batch))
		require.NoError(t, s.StartBatch(ctx, "!a:x", store.SeqRange{From: batch[0].Seq, To: batch[1].Seq}))
		n, err = s.FinishBatch(ctx, store.BatchOutcome{RoomID: "!a:x",
			Done:  store.SeqRange{From: batch[0].Seq, To: batch[0].Seq},
			Unrun: store.SeqRange{From: batch[1].Seq, To: batch[1].Seq}})
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		batch, err = s.NextBatch(ctx, "!a:x", time.Now(), 10)
		require.NoError(t, err)
		require.Equal(t, []id.EventID{"$a4"}, eventIDs(batch))
		assert.Zero(t, batch[0].Attempts, "an event whose handler never ran keeps no attempt")
		n, err = s.FinishBatch(ctx, store.BatchOutcome{RoomID: "!a:x", Done: store.SeqRange{From: batch[0].Seq, To: batch[0].Seq}})
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		n, err = s.FinishBatch(ctx, store.BatchOutcome{RoomID: "!a:x", Done: store.SeqRange{From: batch[0].Seq, To: batch[0].Seq}})
		require.NoError(t, err)
		assert.Zero(t, n, "an event is marked done once")

		done, err := s.CountInbox(ctx, store.InboxDone)
		require.NoError(t, err)
		parked, err := s.CountInbox(ctx, store.InboxParked)
		require.NoError(t, err)
		assert.Equal(t, 3, done)
		assert.Equal(t, 1, parked)

		var payloads int
		require.NoError(t, s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM inbox_event WHERE state = 'done' AND payload IS NOT NULL`).Scan(&payloads))
		assert.Zero(t, payloads, "handled events keep no payload (no message bodies at rest)")

		stats, err := s.InboxStats(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, stats.Pending)
		assert.Equal(t, 1, stats.Parked)
		assert.False(t, stats.OldestPending.IsZero())

		require.NoError(t, s.PruneInbox(ctx, time.Now().Add(time.Hour)))
		done, _ = s.CountInbox(ctx, store.InboxDone)
		parked, _ = s.CountInbox(ctx, store.InboxParked)
		pending, _ := s.CountInbox(ctx, store.InboxPending)
		assert.Equal(t, []int{0, 0, 1}, []int{done, parked, pending}, "pruning never drops pending events")
	})
}

// TestInboxTransactionInOrderOneCommit: a 100-event transaction is stored
// in its order with one commit; transactions saved at the same time share
// commits (group commit), and each caller returns after the commit that
// holds its events.
func TestInboxTransactionInOrderOneCommit(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		var events []store.InboxEvent
		var want []id.EventID
		for i := range 100 {
			// Event ids in descending order: the order must come from the
			// transaction, not from the ids.
			e := ev("!a:x", fmt.Sprintf("$%03d", 999-i))
			events = append(events, e)
			want = append(want, e.EventID)
		}
		before := s.InboxWriteStats()
		res, err := s.SaveTransaction(ctx, "big", events)
		require.NoError(t, err)
		assert.Equal(t, 100, res.Stored)
		after := s.InboxWriteStats()
		assert.Equal(t, uint64(1), after.Commits-before.Commits, "one commit for the whole transaction")
		batch, err := s.NextBatch(ctx, "!a:x", time.Now(), 1000)
		require.NoError(t, err)
		assert.Equal(t, want, eventIDs(batch), "stored in the transaction's order")

		// Hold the writer, let eight transactions queue up, release it:
		// they are committed together, and none returned before.
		release := store.HoldWriter(s)
		var wg sync.WaitGroup
		var returned atomic.Int32
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := s.SaveTransaction(ctx, fmt.Sprintf("g%d", i), []store.InboxEvent{ev("!g:x", fmt.Sprintf("$g%d-1", i)), ev("!g:x", fmt.Sprintf("$g%d-2", i))})
				assert.NoError(t, err)
				assert.Equal(t, 2, res.Stored)
				returned.Add(1)
			}()
		}
		require.Eventually(t, func() bool { return store.QueuedWrites(s) == 8 }, 10*time.Second, time.Millisecond)
		assert.Zero(t, returned.Load(), "no caller returns before its commit")
		before = s.InboxWriteStats()
		release()
		wg.Wait()
		after = s.InboxWriteStats()
		assert.Equal(t, uint64(2), after.Commits-before.Commits, "the held write and one group commit for all eight")
		assert.Equal(t, uint64(9), after.Writes-before.Writes)
		n, err := s.CountInbox(ctx, store.InboxPending)
		require.NoError(t, err)
		assert.Equal(t, 116, n)
	})
}

// TestInboxGroupIsolatesAFailingWrite: a write that fails inside a group
// (on PostgreSQL it aborts the whole transaction) fails alone; the other
// writes of its group are committed.
func TestInboxGroupIsolatesAFailingWrite(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		release := store.HoldWriter(s)
		saved := make(chan error, 2)
		save := func(n int) {
			_, err := s.SaveTransaction(ctx, fmt.Sprintf("t%d", n), []store.InboxEvent{ev("!a:x", fmt.Sprintf("$%d", n))})
			saved <- err
		}
		go save(1)
		require.Eventually(t, func() bool { return store.QueuedWrites(s) == 1 }, 10*time.Second, time.Millisecond)
		failed := store.FailingWrite(s)
		require.Eventually(t, func() bool { return store.QueuedWrites(s) == 2 }, 10*time.Second, time.Millisecond)
		go save(2)
		require.Eventually(t, func() bool { return store.QueuedWrites(s) == 3 }, 10*time.Second, time.Millisecond)
		release()
		require.Error(t, <-failed)
		require.NoError(t, <-saved)
		require.NoError(t, <-saved)
		batch, err := s.NextBatch(ctx, "!a:x", time.Now(), 10)
		require.NoError(t, err)
		assert.Equal(t, []id.EventID{"$1", "$2"}, eventIDs(batch))
	})
}

func eventIDs(events []store.InboxEvent) []id.EventID {
	ids := make([]id.EventID, len(events))
	for i, e := range events {
		ids[i] = e.EventID
	}
	return ids
}

func TestInboxConcurrentRedelivery(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored := 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := s.SaveTransaction(ctx, "same", []store.InboxEvent{ev("!a:x", "$1"), ev("!a:x", "$2")})
				assert.NoError(t, err)
				mu.Lock()
				stored += res.Stored
				mu.Unlock()
			}()
		}
		wg.Wait()
		assert.Equal(t, 2, stored, "concurrent deliveries of one transaction store its events once")
	})
}

func TestReopenKeepsState(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		_, err := s.SaveTransaction(ctx, "t1", []store.InboxEvent{ev("!a:x", "$1")})
		require.NoError(t, err)
		require.NoError(t, s.Close())

		s = open() // runs the migrations again: must be a no-op
		batch, err := s.NextBatch(ctx, "!a:x", time.Now(), 10)
		require.NoError(t, err)
		assert.Equal(t, []id.EventID{"$1"}, eventIDs(batch))
	})
}

func TestOpenRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct{ name, typ, uri string }{
		{"empty uri", store.TypeSQLite, ""},
		{"unknown type", "mysql", "x"},
		{"postgres without URI scheme", store.TypePostgres, "host=localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Open(context.Background(), store.Options{Type: tc.typ, URI: tc.uri})
			assert.ErrorIs(t, err, store.ErrBadOptions)
		})
	}
}

func TestOutbox(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		got, err := s.GetOutbox(ctx, "rathaus-x")
		require.NoError(t, err)
		assert.Nil(t, got)

		e := store.OutboxEntry{TxnID: "rathaus-x", RoomID: "!r:hs", Sender: "@rathaus:hs", Type: "m.room.message"}
		require.NoError(t, s.AddOutbox(ctx, e))
		require.NoError(t, s.AddOutbox(ctx, e), "adding twice is a no-op")
		got, err = s.GetOutbox(ctx, "rathaus-x")
		require.NoError(t, err)
		assert.Equal(t, e, *got)

		require.NoError(t, s.MarkOutboxSent(ctx, "rathaus-x", "$sent"))
		got, err = s.GetOutbox(ctx, "rathaus-x")
		require.NoError(t, err)
		assert.Equal(t, id.EventID("$sent"), got.EventID)

		require.NoError(t, s.PruneOutbox(ctx, time.Now().Add(time.Minute)))
		got, err = s.GetOutbox(ctx, "rathaus-x")
		require.NoError(t, err)
		assert.Nil(t, got)
	})
}

// TestInboxStoresSkippedEventsDone: events saved as done (no handler
// wants them) keep no payload, are never handed out, and still
// de-duplicate a redelivery.
func TestInboxStoresSkippedEventsDone(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		skip := ev("!a:x", "$chat")
		skip.State, skip.Payload = store.InboxDone, nil
		res, err := s.SaveTransaction(ctx, "t1", []store.InboxEvent{ev("!a:x", "$cmd1"), skip, ev("!a:x", "$cmd2")})
		require.NoError(t, err)
		assert.Equal(t, store.SaveResult{Stored: 3, Pending: 2}, res)
		batch, err := s.NextBatch(ctx, "!a:x", time.Now(), 10)
		require.NoError(t, err)
		assert.Equal(t, []id.EventID{"$cmd1", "$cmd2"}, eventIDs(batch), "pending events keep their order")
		var state string
		var payload sql.NullString
		var finished sql.NullInt64
		require.NoError(t, s.DB.QueryRow(ctx, `SELECT state, payload, finished_at FROM inbox_event WHERE event_id = '$chat'`).Scan(&state, &payload, &finished))
		assert.Equal(t, "done", state)
		assert.False(t, payload.Valid, "no payload kept")
		assert.True(t, finished.Valid, "pruned like any handled event")
		res, err = s.SaveTransaction(ctx, "t2", []store.InboxEvent{ev("!a:x", "$chat")})
		require.NoError(t, err)
		assert.Equal(t, store.SaveResult{}, res, "a skipped event redelivered is not stored again")
	})
}

// TestOpenNamesTheDatabase: an error at open says which database it was
// trying to open (never a PostgreSQL password).
func TestOpenNamesTheDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "rathaus.db")
	_, err := store.Open(context.Background(), store.Options{Type: store.TypeSQLite, URI: path})
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)

	_, err = store.Open(context.Background(), store.Options{Type: store.TypePostgres,
		URI: "postgres://rathaus:s3cret@127.0.0.1:1/rathausdb?sslmode=disable&connect_timeout=2"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"rathausdb" on 127.0.0.1:1`)
	assert.NotContains(t, err.Error(), "s3cret")
}
