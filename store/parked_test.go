package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/store"
)

// park runs one event of a room until it is parked.
func park(t *testing.T, s *store.Store, room id.RoomID, reason string) store.InboxEvent {
	t.Helper()
	ctx := context.Background()
	batch, err := s.NextBatch(ctx, room, time.Now(), 1)
	require.NoError(t, err)
	require.Len(t, batch, 1)
	r := store.SeqRange{From: batch[0].Seq, To: batch[0].Seq}
	require.NoError(t, s.StartBatch(ctx, room, r))
	_, err = s.FinishBatch(ctx, store.BatchOutcome{RoomID: room, Failed: &store.FailedEvent{Seq: batch[0].Seq, Reason: reason, Park: true}})
	require.NoError(t, err)
	return batch[0]
}

// TestParkedEventsListAndRequeue: an operator sees what was parked and
// why (never the content), and gives events back to the dispatcher, one
// by one or all; a requeued event starts afresh with its payload.
func TestParkedEventsListAndRequeue(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		ctx := context.Background()
		_, err := s.SaveTransaction(ctx, "t1", []store.InboxEvent{ev("!a:x", "$a1"), ev("!b:x", "$b1"), ev("!c:x", "$c1")})
		require.NoError(t, err)
		a := park(t, s, "!a:x", "handler failed: boom")
		b := park(t, s, "!b:x", "handler failed: bang")

		parked, err := s.ParkedEvents(ctx, 10)
		require.NoError(t, err)
		require.Len(t, parked, 2)
		assert.Equal(t, a.Seq, parked[0].Seq)
		assert.Equal(t, id.EventID("$a1"), parked[0].EventID)
		assert.Equal(t, id.RoomID("!a:x"), parked[0].RoomID)
		assert.Equal(t, "m.room.message", parked[0].Type)
		assert.Equal(t, 1, parked[0].Attempts)
		assert.Equal(t, "handler failed: boom", parked[0].LastError)
		assert.Equal(t, b.Seq, parked[1].Seq)
		assert.WithinDuration(t, time.Now(), parked[0].ParkedAt, time.Minute)
		one, err := s.ParkedEvents(ctx, 1)
		require.NoError(t, err)
		assert.Len(t, one, 1, "the limit holds")

		n, err := s.RequeueParked(ctx, []int64{a.Seq, 999999})
		require.NoError(t, err)
		assert.Equal(t, 1, n, "only parked events count")
		batch, err := s.NextBatch(ctx, "!a:x", time.Now(), 10)
		require.NoError(t, err)
		require.Len(t, batch, 1)
		assert.Equal(t, a.Seq, batch[0].Seq)
		assert.Zero(t, batch[0].Attempts, "a requeued event starts afresh")
		assert.JSONEq(t, string(ev("!a:x", "$a1").Payload), string(batch[0].Payload), "its payload was kept")

		n, err = s.RequeueParked(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, 1, n, "all: the one left")
		parked, err = s.ParkedEvents(ctx, 10)
		require.NoError(t, err)
		assert.Empty(t, parked)
		rooms, err := s.PendingRooms(ctx, time.Now())
		require.NoError(t, err)
		assert.ElementsMatch(t, []id.RoomID{"!a:x", "!b:x", "!c:x"}, rooms)
	})
}
