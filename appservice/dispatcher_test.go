package appservice_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/store"
)

// TestDispatcherKeepsPerRoomOrder delivers 1,000 events across 10 rooms in
// shuffled transactions and lets the handler take a random time for each.
func TestDispatcherKeepsPerRoomOrder(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	rec := newRecorder()
	rec.delay = func() time.Duration { return time.Duration(rand.IntN(3000)) * time.Microsecond }
	var inFlight, maxInFlight atomic.Int32
	h := &concurrencyProbe{next: rec, cur: &inFlight, max: &maxInFlight}
	d := startDispatcher(t, st, h, func(o *appservice.DispatcherOptions) { o.Workers = 10 })

	const rooms, perRoom = 10, 100
	want := map[id.RoomID][]id.EventID{}
	var batch []store.InboxEvent
	txn := 0
	for i := 0; i < perRoom; i++ {
		for _, r := range rand.Perm(rooms) {
			room := id.RoomID(fmt.Sprintf("!room%d:hs", r))
			evt := id.EventID(fmt.Sprintf("$r%d-%03d", r, i))
			want[room] = append(want[room], evt)
			batch = append(batch, store.InboxEvent{EventID: evt, RoomID: room, Type: "m.room.message",
				Payload: []byte(messageJSON(room, evt, "x"))})
			if len(batch) == 7 {
				txn++
				_, err := st.SaveTransaction(ctx, fmt.Sprintf("t%d", txn), batch)
				require.NoError(t, err)
				d.Wake()
				batch = nil
			}
		}
	}
	_, err := st.SaveTransaction(ctx, "last", batch)
	require.NoError(t, err)
	d.Wake()

	waitFor(t, "all 1,000 events handled", 60*time.Second, func() bool { return rec.total() == rooms*perRoom })
	for room, events := range want {
		assert.Equal(t, events, rec.byRoom[room], "order in %s", room)
	}
	assert.Greater(t, maxInFlight.Load(), int32(1), "rooms are processed in parallel")
}

type concurrencyProbe struct {
	next     appservice.Handler
	cur, max *atomic.Int32
}

func (p *concurrencyProbe) HandleEvent(ctx context.Context, evt *event.Event) error {
	n := p.cur.Add(1)
	defer p.cur.Add(-1)
	for {
		m := p.max.Load()
		if n <= m || p.max.CompareAndSwap(m, n) {
			break
		}
	}
	return p.next.HandleEvent(ctx, evt)
}

// TestDispatcherRetriesThenParks: a failing event is retried with backoff,
// then parked; its room goes on with the next event and other rooms are
// never blocked.
func TestDispatcherRetriesThenParks(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	rec := newRecorder()
	var attempts atomic.Int32
	var healed atomic.Bool
	rec.fail = func(evt *event.Event) error {
		if evt.ID == "$bad" && !healed.Load() {
			attempts.Add(1)
			return errors.New("homeserver unavailable")
		}
		return nil
	}
	startDispatcher(t, st, rec, func(o *appservice.DispatcherOptions) {
		o.MaxAttempts = 3
		o.Backoff = func(int) time.Duration { return 20 * time.Millisecond }
	})
	_, err := st.SaveTransaction(ctx, "t1", []store.InboxEvent{
		{EventID: "$bad", RoomID: "!a:hs", Type: "m.room.message", Payload: []byte(messageJSON("!a:hs", "$bad", "x"))},
		{EventID: "$after", RoomID: "!a:hs", Type: "m.room.message", Payload: []byte(messageJSON("!a:hs", "$after", "x"))},
		{EventID: "$other", RoomID: "!c:hs", Type: "m.room.message", Payload: []byte(messageJSON("!c:hs", "$other", "x"))},
		{EventID: "$garbage", RoomID: "!d:hs", Type: "m.room.message", Payload: []byte(`{"content": 5}`)},
	})
	require.NoError(t, err)
	waitFor(t, "the room after the parked event to move on", 5*time.Second, func() bool { return rec.timesHandled("$after") == 1 })
	assert.Equal(t, 1, rec.timesHandled("$other"))
	assert.Equal(t, 0, rec.timesHandled("$bad"))
	assert.Equal(t, int32(3), attempts.Load(), "tried MaxAttempts times")

	waitFor(t, "both bad events parked", 5*time.Second, func() bool {
		n, _ := st.CountInbox(ctx, store.InboxParked)
		return n == 2
	})
	var reason string
	require.NoError(t, st.DB.QueryRow(ctx, `SELECT last_error FROM inbox_event WHERE event_id = '$bad'`).Scan(&reason))
	assert.Contains(t, reason, "homeserver unavailable")

	// The cause is fixed; the operator requeues the parked event (rathaus
	// parked -requeue), and the running dispatcher's next scan handles it.
	healed.Store(true)
	parked, err := st.ParkedEvents(ctx, 10)
	require.NoError(t, err)
	var seq int64
	for _, p := range parked {
		if p.EventID == "$bad" {
			seq = p.Seq
		}
	}
	n, err := st.RequeueParked(ctx, []int64{seq})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	waitFor(t, "the requeued event to be handled", 5*time.Second, func() bool { return rec.timesHandled("$bad") == 1 })
	assert.Equal(t, 1, rec.timesHandled("$after"), "nothing else runs again")
}

// TestDispatcherResumesAfterStop: a dispatcher stopped mid-way leaves the
// rest pending, and a new one (as after a restart) finishes exactly those.
func TestDispatcherResumesAfterStop(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	var events []store.InboxEvent
	for i := 0; i < 50; i++ {
		evt := id.EventID(fmt.Sprintf("$e%02d", i))
		events = append(events, store.InboxEvent{EventID: evt, RoomID: "!r:hs", Type: "m.room.message", Payload: []byte(messageJSON("!r:hs", evt, "x"))})
	}
	_, err := st.SaveTransaction(ctx, "t1", events)
	require.NoError(t, err)

	first := newRecorder()
	first.delay = func() time.Duration { return 5 * time.Millisecond }
	opts := appservice.DispatcherOptions{Inbox: st, Handler: first}
	d1, err := appservice.NewDispatcher(opts)
	require.NoError(t, err)
	d1.Start(ctx)
	waitFor(t, "some events handled by the first dispatcher", 5*time.Second, func() bool { return first.total() >= 10 })
	d1.Stop()
	handledFirst := first.byRoom["!r:hs"]
	require.Less(t, len(handledFirst), 50)

	second := newRecorder()
	startDispatcher(t, st, second, nil)
	waitFor(t, "the rest handled by the second dispatcher", 5*time.Second, func() bool { return first.total()+second.total() >= 50 })
	all := append(append([]id.EventID{}, handledFirst...), second.byRoom["!r:hs"]...)
	require.Len(t, all, 50)
	for i, e := range all {
		assert.Equal(t, events[i].EventID, e, "position %d", i)
	}
}

// TestDispatcherFailingRoomFreesItsWorker: with a single worker, a room
// whose event keeps failing waits for its retry without the worker, so
// another room is handled meanwhile.
func TestDispatcherFailingRoomFreesItsWorker(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	rec := newRecorder()
	var failures atomic.Int32
	rec.fail = func(evt *event.Event) error {
		if evt.RoomID == "!sick:hs" {
			failures.Add(1)
			return errors.New("homeserver unavailable")
		}
		return nil
	}
	startDispatcher(t, st, rec, func(o *appservice.DispatcherOptions) {
		o.Workers = 1
		o.MaxAttempts = 1000
		o.Backoff = func(int) time.Duration { return 200 * time.Millisecond }
	})
	_, err := st.SaveTransaction(ctx, "t1", []store.InboxEvent{
		{EventID: "$sick", RoomID: "!sick:hs", Type: "m.room.message", Payload: []byte(messageJSON("!sick:hs", "$sick", "x"))},
	})
	require.NoError(t, err)
	waitFor(t, "the sick room to fail once", 5*time.Second, func() bool { return failures.Load() >= 1 })
	var healthy []store.InboxEvent
	for i := 0; i < 5; i++ {
		evt := id.EventID(fmt.Sprintf("$ok%d", i))
		healthy = append(healthy, store.InboxEvent{EventID: evt, RoomID: "!ok:hs", Type: "m.room.message", Payload: []byte(messageJSON("!ok:hs", evt, "x"))})
	}
	_, err = st.SaveTransaction(ctx, "t2", healthy)
	require.NoError(t, err)
	waitFor(t, "the healthy room to be handled while the sick one waits", 5*time.Second, func() bool { return rec.total() == 5 })
	waitFor(t, "the sick event to be retried", 5*time.Second, func() bool { return failures.Load() >= 3 })
	pending, err := st.CountInbox(ctx, store.InboxPending)
	require.NoError(t, err)
	assert.Equal(t, 1, pending, "the failing event is still pending, not parked")
}

// TestDispatcherParksCrashLoopingEvent: an event whose handling never
// finished MaxAttempts times (the process died each time) is parked at
// pick-up instead of being run again.
func TestDispatcherParksCrashLoopingEvent(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	_, err := st.SaveTransaction(ctx, "t1", []store.InboxEvent{
		{EventID: "$deadly", RoomID: "!r:hs", Type: "m.room.message", Payload: []byte(messageJSON("!r:hs", "$deadly", "x"))},
		{EventID: "$next", RoomID: "!r:hs", Type: "m.room.message", Payload: []byte(messageJSON("!r:hs", "$next", "x"))},
	})
	require.NoError(t, err)
	batch, err := st.NextBatch(ctx, "!r:hs", time.Now(), 1)
	require.NoError(t, err)
	for i := 0; i < 3; i++ { // three runs that never came back
		require.NoError(t, st.StartBatch(ctx, "!r:hs", store.SeqRange{From: batch[0].Seq, To: batch[0].Seq}))
	}
	rec := newRecorder()
	startDispatcher(t, st, rec, func(o *appservice.DispatcherOptions) { o.MaxAttempts = 3 })
	waitFor(t, "the next event to be handled", 5*time.Second, func() bool { return rec.timesHandled("$next") == 1 })
	assert.Zero(t, rec.timesHandled("$deadly"), "not run a fourth time")
	parked, err := st.CountInbox(ctx, store.InboxParked)
	require.NoError(t, err)
	assert.Equal(t, 1, parked)
}

// TestDispatcherBatchesWrites: a room's pending events are dispatched in
// one batch: one write counts their attempts, one records them done,
// whatever the batch's size; the handler sees them in order.
func TestDispatcherBatchesWrites(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	want := map[id.RoomID][]id.EventID{}
	var events []store.InboxEvent
	for i := 0; i < 100; i++ {
		for _, room := range []id.RoomID{"!a:hs", "!b:hs"} {
			evt := id.EventID(fmt.Sprintf("$%s%03d", room[1:2], i))
			want[room] = append(want[room], evt)
			events = append(events, store.InboxEvent{EventID: evt, RoomID: room, Type: "m.room.message", Payload: []byte(messageJSON(room, evt, "x"))})
		}
	}
	_, err := st.SaveTransaction(ctx, "t1", events)
	require.NoError(t, err)
	before := st.InboxWriteStats()
	rec := newRecorder()
	startDispatcher(t, st, rec, nil)
	waitFor(t, "all 200 events done", 10*time.Second, func() bool {
		n, _ := st.CountInbox(ctx, store.InboxDone)
		return n == 200
	})
	after := st.InboxWriteStats()
	assert.Equal(t, want["!a:hs"], rec.byRoom["!a:hs"])
	assert.Equal(t, want["!b:hs"], rec.byRoom["!b:hs"])
	assert.Equal(t, uint64(4), after.Writes-before.Writes, "per room one write before the handlers and one after")
	assert.LessOrEqual(t, after.Commits-before.Commits, uint64(4))
}

// selective handles only the events of one room and declines the rest
// through appservice.Selector.
type selective struct {
	*recorder
	room   id.RoomID
	looked atomic.Int32
}

func (s *selective) Wants(room id.RoomID, _ string, _ []byte) bool {
	s.looked.Add(1)
	return room == s.room
}

// TestDispatcherSkipsUnwantedEvents: events the handler declines are
// marked done without a handler run, and a batch of only such events
// costs one write.
func TestDispatcherSkipsUnwantedEvents(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	var events []store.InboxEvent
	for i := 0; i < 100; i++ {
		evt := id.EventID(fmt.Sprintf("$other%03d", i))
		events = append(events, store.InboxEvent{EventID: evt, RoomID: "!other:hs", Type: "m.room.message", Payload: []byte(messageJSON("!other:hs", evt, "x"))})
	}
	for i := 0; i < 3; i++ {
		evt := id.EventID(fmt.Sprintf("$mine%d", i))
		events = append(events, store.InboxEvent{EventID: evt, RoomID: "!mine:hs", Type: "m.room.message", Payload: []byte(messageJSON("!mine:hs", evt, "x"))})
	}
	_, err := st.SaveTransaction(ctx, "t1", events)
	require.NoError(t, err)
	before := st.InboxWriteStats()
	h := &selective{recorder: newRecorder(), room: "!mine:hs"}
	metrics := appservice.NewMetrics(nil)
	startDispatcher(t, st, h, func(o *appservice.DispatcherOptions) { o.Metrics = metrics })
	waitFor(t, "all 103 events done", 10*time.Second, func() bool {
		n, _ := st.CountInbox(ctx, store.InboxDone)
		return n == 103
	})
	assert.Equal(t, []id.EventID{"$mine0", "$mine1", "$mine2"}, h.byRoom["!mine:hs"])
	assert.Equal(t, 3, h.total(), "declined events never reach the handler")
	assert.Equal(t, uint64(3), st.InboxWriteStats().Writes-before.Writes,
		"the declined room's batch: one write; the other room's: two")
	assert.Equal(t, 100.0, counterValue(metrics.EventsSkipped))
	assert.Equal(t, 103.0, counterValue(metrics.EventsProcessed))
}

// TestDispatcherPendingEstimate: Pending counts stored events until the
// next stats read and drops as batches finish.
func TestDispatcherPendingEstimate(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	block := make(chan struct{})
	rec := newRecorder()
	rec.fail = func(*event.Event) error { <-block; return nil }
	d := startDispatcher(t, st, rec, func(o *appservice.DispatcherOptions) { o.StatsInterval = time.Hour })
	var events []store.InboxEvent
	for i := 0; i < 5; i++ {
		evt := id.EventID(fmt.Sprintf("$e%d", i))
		events = append(events, store.InboxEvent{EventID: evt, RoomID: "!r:hs", Type: "m.room.message", Payload: []byte(messageJSON("!r:hs", evt, "x"))})
	}
	res, err := st.SaveTransaction(ctx, "t1", events)
	require.NoError(t, err)
	d.Stored(res.Stored, "!r:hs")
	assert.Equal(t, int64(5), d.Pending())
	close(block)
	waitFor(t, "the estimate to reach zero", 10*time.Second, func() bool { return d.Pending() == 0 })
	assert.Positive(t, rec.total())
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}
