package appservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
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
	// the event that was running, so its effects must be idempotent: send
	// Matrix events with a transaction id derived from the event (TxnID).
	// Returning an error retries the event with backoff; an error wrapping
	// ErrPermanent parks it at once.
	HandleEvent(ctx context.Context, evt *event.Event) error
}

// DispatcherOptions configure NewDispatcher.
type DispatcherOptions struct {
	Log     zerolog.Logger
	Inbox   Inbox   // required
	Handler Handler // required
	// Workers is how many rooms are processed at once (default 8).
	Workers int
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
	// PollInterval is how often the inbox is scanned without a wake-up, to
	// refresh the lag metric and pick up anything missed (default 10 s).
	PollInterval time.Duration
	Metrics      *Metrics
}

// Dispatcher hands stored events to the Handler.
type Dispatcher struct {
	opts DispatcherOptions
	log  zerolog.Logger
	wake chan struct{}
	sem  chan struct{}

	mu     sync.Mutex
	active map[id.RoomID]struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewDispatcher validates the options and applies defaults.
func NewDispatcher(opts DispatcherOptions) (*Dispatcher, error) {
	if opts.Inbox == nil || opts.Handler == nil {
		return nil, fmt.Errorf("%w: Inbox and Handler", ErrMissingOption)
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
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
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	return &Dispatcher{
		opts:   opts,
		log:    opts.Log,
		wake:   make(chan struct{}, 1),
		sem:    make(chan struct{}, opts.Workers),
		active: make(map[id.RoomID]struct{}),
	}, nil
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

// Wake tells the dispatcher that new events were stored.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) loop(ctx context.Context) {
	defer d.wg.Done()
	for {
		wait := d.scan(ctx)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-d.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// scan starts a worker for every due room that has none, and returns how
// long to sleep before the next scan if nothing wakes the dispatcher.
func (d *Dispatcher) scan(ctx context.Context) time.Duration {
	now := time.Now()
	wait := d.opts.PollInterval
	if stats, err := d.opts.Inbox.InboxStats(ctx); err == nil {
		d.opts.Metrics.InboxPending.Set(float64(stats.Pending))
		d.opts.Metrics.InboxParked.Set(float64(stats.Parked))
		if stats.OldestPending.IsZero() {
			d.opts.Metrics.InboxLag.Set(0)
		} else {
			d.opts.Metrics.InboxLag.Set(now.Sub(stats.OldestPending).Seconds())
		}
	}
	if next, err := d.opts.Inbox.NextDue(ctx, now); err == nil && !next.IsZero() {
		wait = min(wait, max(time.Until(next), time.Millisecond))
	}
	rooms, err := d.opts.Inbox.PendingRooms(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error().Err(err).Msg("Failed to list rooms with pending events")
		}
		return wait
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, room := range rooms {
		if _, busy := d.active[room]; busy {
			continue
		}
		select {
		case d.sem <- struct{}{}:
		default:
			return wait // all workers busy; a finishing worker wakes us again
		}
		d.active[room] = struct{}{}
		d.wg.Add(1)
		go d.runRoom(ctx, room)
	}
	return wait
}

// runRoom processes one room's events strictly in order until none is left.
func (d *Dispatcher) runRoom(ctx context.Context, room id.RoomID) {
	defer func() {
		d.mu.Lock()
		delete(d.active, room)
		d.mu.Unlock()
		<-d.sem
		d.wg.Done()
		d.Wake() // events may have arrived after our last look
	}()
	for ctx.Err() == nil {
		evt, err := d.opts.Inbox.NextPending(ctx, room)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error().Err(err).Stringer("room_id", room).Msg("Failed to read next pending event")
				d.sleep(ctx, time.Second)
			}
			return
		} else if evt == nil || evt.NextAttemptAt.After(time.Now()) {
			return // empty, or waiting for a retry: free the worker
		}
		if !d.process(ctx, evt) {
			return
		}
	}
}

// process runs one attempt of the handler for an event. It reports
// whether the room may go on with its next event (the event is done or
// parked); otherwise the event waits for a retry or for the next start.
func (d *Dispatcher) process(ctx context.Context, stored *store.InboxEvent) bool {
	log := d.log.With().
		Stringer("room_id", stored.RoomID).
		Stringer("event_id", stored.EventID).
		Str("event_type", stored.Type).
		Str("txn_id", stored.TxnID).
		Logger()
	ctx = log.WithContext(ctx)
	attempts, err := d.opts.Inbox.StartAttempt(d.recordCtx(ctx), stored.Seq)
	if err != nil {
		log.Error().Err(err).Msg("Failed to count handler attempt")
		return false
	}
	if attempts > d.opts.MaxAttempts {
		// The previous attempt never finished: rathaus died while handling
		// this event, again and again. Do not crash-loop on it.
		log.Error().Int("attempts", attempts-1).
			Msg("Giving up on event whose handling never finished; parked in the inbox for an operator")
		d.finish(log, d.opts.Inbox.Park(d.recordCtx(ctx), stored.Seq, "handling never finished (process died or stopped)"))
		d.opts.Metrics.EventsParked.Inc()
		return true
	}
	err = d.runHandler(ctx, stored)
	if err == nil {
		d.finish(log, d.opts.Inbox.MarkDone(d.recordCtx(ctx), stored.Seq))
		d.opts.Metrics.EventsProcessed.Inc()
		return true
	}
	if ctx.Err() != nil {
		return false // shutting down: the event stays pending for the next start
	}
	d.opts.Metrics.EventsFailed.Inc()
	if errors.Is(err, ErrPermanent) || attempts >= d.opts.MaxAttempts {
		log.Error().Err(err).Int("attempts", attempts).
			Msg("Giving up on event after its last attempt; parked in the inbox for an operator")
		d.finish(log, d.opts.Inbox.Park(d.recordCtx(ctx), stored.Seq, err.Error()))
		d.opts.Metrics.EventsParked.Inc()
		return true
	}
	wait := d.opts.Backoff(attempts)
	log.Warn().Err(err).Int("attempts", attempts).Dur("retry_in", wait).Msg("Event handler failed, will retry")
	d.finish(log, d.opts.Inbox.RecordFailure(d.recordCtx(ctx), stored.Seq, err.Error(), time.Now().Add(wait)))
	time.AfterFunc(wait, d.Wake)
	return false
}

// recordCtx is the context for recording an outcome. It survives the
// dispatcher's shutdown (a finished handler must be marked done, or it
// would run again after a restart) and gets its own deadline per write.
func (d *Dispatcher) recordCtx(ctx context.Context) context.Context {
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	context.AfterFunc(rec, cancel) // released when the deadline passes
	return rec
}

func (d *Dispatcher) finish(log zerolog.Logger, err error) {
	if err != nil {
		log.Error().Err(err).Msg("Failed to record event outcome in the inbox")
	}
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
