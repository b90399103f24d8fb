package app

import (
	"context"
	"time"

	"github.com/rathaus-de/rathaus/ozg"
)

// every runs work now and then again each interval() until ctx ends, on a
// goroutine Stop waits for. interval is asked anew after every run, so a
// reload changes it from the next round on.
func (a *App) every(ctx context.Context, name string, interval func() time.Duration, work func(context.Context)) {
	ctx = a.log.With().Str("component", name).Logger().WithContext(ctx)
	a.background.Add(1)
	go func() {
		defer a.background.Done()
		for {
			work(ctx)
			select {
			case <-ctx.Done():
				return
			case <-time.After(interval()):
			}
		}
	}()
}

// prune forgets old inbox and outbox rows, outbox jobs finished (done or
// parked) before the retention, expired guest sessions, spent challenges
// and help requests past their idempotency window, and truncates SQLite's
// write-ahead log, so erased payloads do not linger on disk.
func (a *App) prune(ctx context.Context) {
	now := time.Now()
	before := now.Add(-InboxRetention)
	for _, step := range []struct {
		msg string
		run func() error
	}{
		{"Failed to prune inbox", func() error { return a.store.PruneInbox(ctx, before) }},
		{"Failed to prune outbox", func() error { return a.store.PruneOutbox(ctx, before) }},
		{"Failed to prune finished outbox jobs", func() error { return a.store.PruneJobs(ctx, before) }},
		{"Failed to prune guest sessions", func() error { return a.store.PruneGuestSessions(ctx, now) }},
		{"Failed to prune spent challenges", func() error { return a.store.PrunePowSpent(ctx, now) }},
		{"Failed to prune help requests", func() error { return a.store.PruneHelpRequests(ctx, now.Add(-ozg.IdempotencyWindow)) }},
		{"Failed to checkpoint the database log", func() error { return a.store.Checkpoint(ctx) }},
	} {
		if err := step.run(); err != nil && ctx.Err() == nil {
			a.log.Warn().Err(err).Msg(step.msg)
		}
	}
}
