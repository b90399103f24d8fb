package app

import (
	"context"
	"time"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/outbox"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/tickets"
)

// OutboxOptions tune the outbox of non-Matrix effects (status webhooks).
// The zero value is the production behaviour; tests shorten the waits.
type OutboxOptions struct {
	// Backoff is the wait before retry n (default outbox.Backoff: 10 s
	// doubling to 1 h).
	Backoff func(n int) time.Duration
	// MaxAttempts parks a job after this many failed attempts (default
	// outbox.DefaultMaxAttempts).
	MaxAttempts int
	// Poll is how often the worker looks for due jobs unwoken (default
	// outbox.DefaultPoll); it bounds how soon a job requeued by
	// `rathaus parked` runs.
	Poll time.Duration
}

// buildOutbox makes the outbox worker with a handler per job kind. Jobs
// of a kind without a handler are parked with a message that says so.
func (a *App) buildOutbox() error {
	statusHooks, err := tickets.NewStatusWebhooks(tickets.WebhookOptions{Config: a.config,
		Log: a.log.With().Str("component", "webhooks").Logger()})
	if err != nil {
		return err
	}
	a.outbox, err = outbox.New(outbox.Options{
		Store:       a.store,
		Handlers:    map[string]outbox.Handler{store.JobKindTicketStatus: statusHooks},
		Log:         a.log,
		Backoff:     a.opts.Outbox.Backoff,
		MaxAttempts: a.opts.Outbox.MaxAttempts,
		Poll:        a.opts.Outbox.Poll,
		Registerer:  a.opts.Registry,
	})
	return err
}

// startOutbox runs the worker. The jobs of status changes are stored with
// the change; the worker is woken when a case's timeline changes (a
// status change shows there), so a webhook leaves within moments, and
// polls every outbox.DefaultPoll besides.
func (a *App) startOutbox(ctx context.Context) {
	a.outbox.Start(ctx)
	a.stopOutboxWake = a.cases.Subscribe(func(u cases.Update) {
		if u.Kind == cases.TimelineChanged {
			a.outbox.Wake()
		}
	})
}

// stopOutbox stops the worker and waits for running attempts; an attempt
// cut short runs again at the next start under the same delivery id.
func (a *App) stopOutbox() {
	if a.stopOutboxWake != nil {
		a.stopOutboxWake()
		a.stopOutboxWake = nil
	}
	if a.outbox != nil {
		a.outbox.Stop()
	}
}
