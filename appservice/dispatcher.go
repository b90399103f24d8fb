package appservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/store"
)

// Handler receives the stored room events.
type Handler interface {
	// HandleEvent is called once per event, in order within its room, with
	// rooms processed in parallel. After a crash it may be called again for
	// events that ran but were not yet recorded as done (a batch is
	// recorded at its end), so its effects must be idempotent: send Matrix
	// events with a transaction id derived from the event (TxnID).
	// Returning an error retries the event with backoff; an error wrapping
	// ErrPermanent parks it at once.
	HandleEvent(ctx context.Context, evt *event.Event) error
}

// Selector is implemented by a Handler that can tell, from the fields the
// inbox indexes and the raw JSON, that it has nothing to do for an event.
// Most of what a homeserver pushes (chat in rooms rathaus does not manage)
// then costs no more than a look: the transaction endpoint stores such
// events as done, without their payload, and never dispatches them; the
// dispatcher asks again, right before a stored event would be handled, and
// marks it done without decoding it.
type Selector interface {
	// Wants is called for each event when it is stored (once the
	// dispatcher has started: what a selector needs to know, such as the
	// rooms rathaus manages, must be loaded before Start) and again before
	// it is handled. It must be quick, must not block, and may depend only
	// on the event and on what rathaus knows of its room: asked at
	// either moment it must not decline an event that a handler would act
	// on.
	Wants(room id.RoomID, eventType string, raw []byte) bool
}

// DispatcherOptions configure NewDispatcher.
type DispatcherOptions struct {
	Log     zerolog.Logger
	Inbox   Inbox   // required
	Handler Handler // required
	// Workers is how many rooms are processed at once (default 8).
	Workers int
	// BatchSize is how many of a room's events are taken at once (default
	// 100): their attempts are counted in one write and their outcome
	// recorded in one more.
	BatchSize int
	// BatchTime ends a batch early once its handlers have run this long
	// (default 1 s), so that a crash repeats little work.
	BatchTime time.Duration
	// MaxAttempts is how often a failing event is tried before it is parked
	// (default 20: with the default backoff about an hour, so a homeserver
	// restart or a short outage loses nothing).
	MaxAttempts int
	// Backoff returns the pause after the n-th failed attempt (default
	// exponential from 1 s, at most 5 min). While an event waits, its room's
	// worker is free for other rooms.
	Backoff func(attempt int) time.Duration
	// HandlerTimeout bounds one handler run (default 5 min), so a hung
	// handler cannot hold a worker for ever.
	HandlerTimeout time.Duration
	// PollInterval is how often the whole inbox is scanned without a
	// wake-up, to pick up anything missed (default 10 s).
	PollInterval time.Duration
	// StatsInterval is how often the backlog's size and age are read from
	// the database for the metrics and the back-pressure bound (default
	// 1 s).
	StatsInterval time.Duration
	Metrics       *Metrics
}

// Dispatcher hands stored events to the Handler.
type Dispatcher struct {
	opts     DispatcherOptions
	log      zerolog.Logger
	selector Selector
	started  atomic.Bool
	wake     chan struct{}
	sem      chan struct{}

	mu     sync.Mutex
	rescan bool                   // the whole inbox must be scanned
	dirty  map[id.RoomID]bool     // rooms that got events since their worker last looked
	active map[id.RoomID]struct{} // rooms with a running worker
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// pending estimates the backlog between two stats reads: stored events
	// add, finished ones subtract.
	pending atomic.Int64
	// oldest is when the oldest pending event was received (Unix ms, 0:
	// none), as of the last stats read.
	oldest atomic.Int64
}

// NewDispatcher validates the options and applies defaults.
func NewDispatcher(opts DispatcherOptions) (*Dispatcher, error) {
	if opts.Inbox == nil || opts.Handler == nil {
		return nil, fmt.Errorf("%w: Inbox and Handler", ErrMissingOption)
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	if opts.BatchTime <= 0 {
		opts.BatchTime = time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 20
	}
	if opts.HandlerTimeout <= 0 {
		opts.HandlerTimeout = 5 * time.Minute
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 10 * time.Second
	}
	if opts.StatsInterval <= 0 {
		opts.StatsInterval = time.Second
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	d := &Dispatcher{
		opts:   opts,
		log:    opts.Log,
		wake:   make(chan struct{}, 1),
		sem:    make(chan struct{}, opts.Workers),
		dirty:  make(map[id.RoomID]bool),
		active: make(map[id.RoomID]struct{}),
	}
	d.selector, _ = opts.Handler.(Selector)
	opts.Metrics.observe(d)
	return d, nil
}

// DefaultBackoff doubles from one second up to five minutes.
func DefaultBackoff(attempt int) time.Duration {
	if attempt > 10 {
		return 5 * time.Minute
	}
	return min(time.Second<<max(attempt-1, 0), 5*time.Minute)
}

// Start begins processing, including whatever a previous run left pending.
func (d *Dispatcher) Start(ctx context.Context) {
	ctx, d.cancel = context.WithCancel(ctx)
	d.refreshStats(ctx)
	d.started.Store(true)
	d.wg.Add(1)
	go d.loop(ctx)
	d.Wake()
}

// Stop stops taking new events and waits for running handlers to return.
// Events not finished stay pending for the next start.
func (d *Dispatcher) Stop() {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
}

// Wake tells the dispatcher to look through the whole inbox.
func (d *Dispatcher) Wake() {
	d.mu.Lock()
	d.rescan = true
	d.mu.Unlock()
	d.poke()
}

// Stored tells the dispatcher that n new events were stored for rooms; only
// these rooms are looked at.
func (d *Dispatcher) Stored(n int, rooms ...id.RoomID) {
	d.pending.Add(int64(n))
	d.mu.Lock()
	for _, room := range rooms {
		d.dirty[room] = true
	}
	d.mu.Unlock()
	d.poke()
}

// ingestSelector is the Selector to ask when events are stored: none
// before Start, when what it decides on may not be loaded yet.
func (d *Dispatcher) ingestSelector() Selector {
	if !d.started.Load() {
		return nil
	}
	return d.selector
}

// Pending estimates how many events wait in the inbox: exact at each
// stats read (every StatsInterval), counted in between.
func (d *Dispatcher) Pending() int64 { return max(d.pending.Load(), 0) }

// OldestPendingAge is the age of the oldest pending event as of the last
// stats read (0 when none is pending). It grows while nothing moves,
// even if reading the stats fails.
func (d *Dispatcher) OldestPendingAge() time.Duration {
	oldest := d.oldest.Load()
	if oldest == 0 {
		return 0
	}
	return max(time.Since(time.UnixMilli(oldest)), 0)
}

func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) loop(ctx context.Context) {
	defer d.wg.Done()
	poll := time.NewTicker(d.opts.PollInterval)
	defer poll.Stop()
	stats := time.NewTicker(d.opts.StatsInterval)
	defer stats.Stop()
	var retry *time.Timer
	for {
		if next := d.schedule(ctx); !next.IsZero() {
			// A failed event becomes due: look again then.
			if retry != nil {
				retry.Stop()
			}
			retry = time.AfterFunc(max(time.Until(next), time.Millisecond), d.Wake)
		}
		select {
		case <-ctx.Done():
			if retry != nil {
				retry.Stop()
			}
			return
		case <-d.wake:
		case <-poll.C:
			d.Wake()
		case <-stats.C:
			d.refreshStats(ctx)
		}
	}
}

// refreshStats reads the backlog's size and age for the metrics and the
// back-pressure bound.
func (d *Dispatcher) refreshStats(ctx context.Context) {
	stats, err := d.opts.Inbox.InboxStats(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn().Err(err).Msg("Failed to read inbox statistics")
		}
		return
	}
	d.pending.Store(int64(stats.Pending))
	if stats.OldestPending.IsZero() {
		d.oldest.Store(0)
	} else {
		d.oldest.Store(stats.OldestPending.UnixMilli())
	}
	d.opts.Metrics.InboxParked.Set(float64(stats.Parked))
}

// schedule starts a worker for every room with new events that has none,
// after a scan of the whole inbox if one is due. It returns when the
// earliest waiting event becomes due, if the scan found one.
func (d *Dispatcher) schedule(ctx context.Context) time.Time {
	d.mu.Lock()
	rescan := d.rescan
	d.rescan = false
	d.mu.Unlock()
	var next time.Time
	if rescan {
		now := time.Now()
		rooms, err := d.opts.Inbox.PendingRooms(ctx, now)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error().Err(err).Msg("Failed to list rooms with pending events")
			}
			return time.Time{}
		}
		if next, err = d.opts.Inbox.NextDue(ctx, now); err != nil && ctx.Err() == nil {
			d.log.Error().Err(err).Msg("Failed to look for waiting events")
		}
		d.mu.Lock()
		for _, room := range rooms {
			d.dirty[room] = true
		}
		d.mu.Unlock()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for room := range d.dirty {
		if _, busy := d.active[room]; busy {
			continue // its worker looks again when it ends
		}
		select {
		case d.sem <- struct{}{}:
		default:
			return next // all workers busy; a finishing worker wakes us again
		}
		delete(d.dirty, room)
		d.active[room] = struct{}{}
		d.wg.Add(1)
		go d.runRoom(ctx, room)
	}
	return next
}

// runRoom processes one room's events in batches, strictly in order, until
// none is left or the oldest waits for a retry.
func (d *Dispatcher) runRoom(ctx context.Context, room id.RoomID) {
	defer func() {
		d.mu.Lock()
		delete(d.active, room)
		d.mu.Unlock()
		<-d.sem
		d.wg.Done()
		d.poke() // the room, or others, may have got events meanwhile
	}()
	for ctx.Err() == nil {
		batch, err := d.opts.Inbox.NextBatch(ctx, room, time.Now(), d.opts.BatchSize)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error().Err(err).Stringer("room_id", room).Msg("Failed to read pending events")
				d.sleep(ctx, time.Second)
				d.Stored(0, room)
			}
			return
		} else if len(batch) == 0 {
			return // empty, or waiting for a retry: free the worker
		}
		if !d.process(ctx, batch) {
			return
		}
	}
}

// process runs one batch of a room's events: it counts their attempts in
// one write, runs the handlers in order and records the outcome in one
// more write; a batch nobody wants is only marked done. It reports whether
// the room may go on with its next batch; otherwise the batch's failed
// event waits for a retry or, after a shutdown, everything waits for the
// next start.
func (d *Dispatcher) process(ctx context.Context, batch []store.InboxEvent) bool {
	room := batch[0].RoomID
	all := store.SeqRange{From: batch[0].Seq, To: batch[len(batch)-1].Seq}
	if !d.wantsAny(batch) {
		d.finish(ctx, batch, store.BatchOutcome{RoomID: room, Done: all})
		d.opts.Metrics.EventsSkipped.Add(float64(len(batch)))
		return true
	}
	if err := d.opts.Inbox.StartBatch(d.recordCtx(ctx), room, all); err != nil {
		d.log.Error().Err(err).Stringer("room_id", room).Msg("Failed to count handler attempts")
		return false
	}
	started := time.Now()
	for i := range batch {
		stored := &batch[i]
		attempts := stored.Attempts + 1
		log := d.log.With().
			Stringer("room_id", stored.RoomID).
			Stringer("event_id", stored.EventID).
			Str("event_type", stored.Type).
			Str("txn_id", stored.TxnID).
			Logger()
		// The batch's end, once the events before i are done: the rest get
		// their attempt back and come again in the next batch.
		cut := func(failed *store.FailedEvent, unrunFrom int) {
			out := store.BatchOutcome{RoomID: room, Failed: failed}
			if i > 0 {
				out.Done = store.SeqRange{From: all.From, To: batch[i-1].Seq}
			}
			if unrunFrom < len(batch) {
				out.Unrun = store.SeqRange{From: batch[unrunFrom].Seq, To: all.To}
			}
			d.finish(ctx, batch[:i], out)
		}
		if ctx.Err() != nil {
			cut(nil, i)
			return false
		}
		if i > 0 && time.Since(started) > d.opts.BatchTime {
			cut(nil, i)
			return true
		}
		if attempts > d.opts.MaxAttempts {
			// The previous attempt never finished: rathaus died while
			// handling this event, again and again. Do not crash-loop on it.
			log.Error().Int("attempts", attempts-1).
				Msg("Giving up on event whose handling never finished; parked in the inbox for an operator")
			cut(&store.FailedEvent{Seq: stored.Seq, Park: true, Reason: "handling never finished (process died or stopped)"}, i+1)
			d.opts.Metrics.EventsParked.Inc()
			return true
		}
		if d.selector != nil && !d.selector.Wants(room, stored.Type, stored.Payload) {
			d.opts.Metrics.EventsSkipped.Inc()
			continue
		}
		err := d.runHandler(log.WithContext(ctx), stored)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			// Shutting down: this event keeps its attempt and stays pending
			// for the next start.
			cut(nil, i+1)
			return false
		}
		d.opts.Metrics.EventsFailed.Inc()
		if errors.Is(err, ErrPermanent) || attempts >= d.opts.MaxAttempts {
			log.Error().Err(err).Int("attempts", attempts).
				Msg("Giving up on event after its last attempt; parked in the inbox for an operator")
			cut(&store.FailedEvent{Seq: stored.Seq, Park: true, Reason: err.Error()}, i+1)
			d.opts.Metrics.EventsParked.Inc()
			return true
		}
		wait := d.opts.Backoff(attempts)
		log.Warn().Err(err).Int("attempts", attempts).Dur("retry_in", wait).Msg("Event handler failed, will retry")
		cut(&store.FailedEvent{Seq: stored.Seq, Reason: err.Error(), NextAttempt: time.Now().Add(wait)}, i+1)
		time.AfterFunc(wait, func() { d.Stored(0, room) })
		return false
	}
	d.finish(ctx, batch, store.BatchOutcome{RoomID: room, Done: all})
	return true
}

// wantsAny reports whether any event of the batch may need its handler.
func (d *Dispatcher) wantsAny(batch []store.InboxEvent) bool {
	if d.selector == nil {
		return true
	}
	for i := range batch {
		if batch[i].Attempts > 0 || d.selector.Wants(batch[i].RoomID, batch[i].Type, batch[i].Payload) {
			return true
		}
	}
	return false
}

// finish records a batch's outcome; done are the events it marks done.
func (d *Dispatcher) finish(ctx context.Context, done []store.InboxEvent, out store.BatchOutcome) {
	n, err := d.opts.Inbox.FinishBatch(d.recordCtx(ctx), out)
	if err != nil {
		d.log.Error().Err(err).Stringer("room_id", out.RoomID).Msg("Failed to record the outcome of a batch in the inbox")
		return
	}
	if n != len(done) {
		d.log.Warn().Stringer("room_id", out.RoomID).Int("expected", len(done)).Int("marked", n).
			Msg("Inbox events changed state while they were handled")
	}
	finished := n
	if out.Failed != nil && out.Failed.Park {
		finished++
	}
	d.pending.Add(-int64(finished))
	d.opts.Metrics.EventsProcessed.Add(float64(n))
}

// recordCtx is the context for recording an outcome. It survives the
// dispatcher's shutdown (a finished handler must be marked done, or it
// would run again after a restart) and gets its own deadline per write.
func (d *Dispatcher) recordCtx(ctx context.Context) context.Context {
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	context.AfterFunc(rec, cancel) // released when the deadline passes
	return rec
}

// runHandler decodes the stored event and calls the handler, turning a
// panic into an error so one bad event cannot take the process down.
func (d *Dispatcher) runHandler(ctx context.Context, stored *store.InboxEvent) (err error) {
	var evt event.Event
	if err = json.Unmarshal(stored.Payload, &evt); err != nil {
		return fmt.Errorf("%w: failed to decode stored event: %w", ErrPermanent, err)
	}
	if evt.StateKey != nil {
		evt.Type.Class = event.StateEventType
	} else {
		evt.Type.Class = event.MessageEventType
	}
	evt.Mautrix.EventSource = event.SourceTimeline
	if err = evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrUnsupportedContentType) {
		return fmt.Errorf("%w: failed to parse event content: %w", ErrPermanent, err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
			zerolog.Ctx(ctx).Error().Bytes("stack", debug.Stack()).Msg("Event handler panicked")
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, d.opts.HandlerTimeout)
	defer cancel()
	return d.opts.Handler.HandleEvent(ctx, &evt)
}

// sleep waits for d or until ctx ends; it reports whether the full time
// passed.
func (d *Dispatcher) sleep(ctx context.Context, wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
