package store_test

import (
	"context"
	"fmt"
	"sync"
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
		assert.Equal(t, store.SaveResult{Stored: 2}, res)

		res, err = s.SaveTransaction(ctx, "t1", []store.InboxEvent{ev("!a:x", "$1"), ev("!a:x", "$2")})
		require.NoError(t, err)
		assert.Equal(t, store.SaveResult{DuplicateTxn: true}, res, "a redelivered transaction writes nothing")

		res, err = s.SaveTransaction(ctx, "t1", []store.InboxEvent{ev("!a:x", "$2"), ev("!a:x", "$9")})
		require.NoError(t, err)
		assert.Equal(t, store.SaveResult{DuplicateTxn: true, Stored: 1}, res, "a reused transaction id loses no new event")

		res, err = s.SaveTransaction(ctx, "t2", []store.InboxEvent{ev("!a:x", "$2"), ev("!a:x", "$3")})
		require.NoError(t, err)
		assert.Equal(t, store.SaveResult{Stored: 1}, res, "an event id seen in another transaction is not stored again")

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
		_, err = s.SaveTransaction(ctx, "t2", []store.InboxEvent{ev("!a:x", "$a3")})
		require.NoError(t, err)

		rooms, err := s.PendingRooms(ctx, time.Now())
		require.NoError(t, err)
		assert.ElementsMatch(t, []id.RoomID{"!a:x", "!b:x"}, rooms)

		var seen []id.EventID
		for {
			evt, err := s.NextPending(ctx, "!a:x")
			require.NoError(t, err)
			if evt == nil {
				break
			}
			assert.JSONEq(t, string(ev("!a:x", string(evt.EventID)).Payload), string(evt.Payload))
			seen = append(seen, evt.EventID)
			if evt.EventID == "$a2" {
				n, err := s.StartAttempt(ctx, evt.Seq)
				require.NoError(t, err)
				assert.Equal(t, 1, n)
				retryAt := time.Now().Add(time.Hour)
				require.NoError(t, s.RecordFailure(ctx, evt.Seq, "boom", retryAt))
				again, err := s.NextPending(ctx, "!a:x")
				require.NoError(t, err)
				assert.Equal(t, evt.Seq, again.Seq, "a failure keeps the event first in line")
				assert.Equal(t, 1, again.Attempts)
				assert.Equal(t, retryAt.UnixMilli(), again.NextAttemptAt.UnixMilli())
				rooms, err := s.PendingRooms(ctx, time.Now())
				require.NoError(t, err)
				assert.Equal(t, []id.RoomID{"!b:x"}, rooms, "a room waiting for a retry is not due, later events included")
				due, err := s.NextDue(ctx, time.Now())
				require.NoError(t, err)
				assert.Equal(t, retryAt.UnixMilli(), due.UnixMilli())
				rooms, err = s.PendingRooms(ctx, retryAt)
				require.NoError(t, err)
				assert.ElementsMatch(t, []id.RoomID{"!a:x", "!b:x"}, rooms, "due again at the retry time")
				require.NoError(t, s.Park(ctx, evt.Seq, "gave up"))
				_, err = s.StartAttempt(ctx, evt.Seq)
				assert.ErrorIs(t, err, store.ErrNotPending)
				continue
			}
			require.NoError(t, s.MarkDone(ctx, evt.Seq))
			assert.ErrorIs(t, s.MarkDone(ctx, evt.Seq), store.ErrNotPending)
		}
		assert.Equal(t, []id.EventID{"$a1", "$a2", "$a3"}, seen, "events come out in arrival order")

		done, err := s.CountInbox(ctx, store.InboxDone)
		require.NoError(t, err)
		parked, err := s.CountInbox(ctx, store.InboxParked)
		require.NoError(t, err)
		assert.Equal(t, 2, done)
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
		evt, err := s.NextPending(ctx, "!a:x")
		require.NoError(t, err)
		require.NotNil(t, evt)
		assert.Equal(t, id.EventID("$1"), evt.EventID)
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
