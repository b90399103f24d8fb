// Package outbox runs rathaus's durable non-Matrix effects: webhooks now,
// mail later. A job is stored (store.EnqueueJob, keyed by a delivery id
// chosen from its cause) before anything is sent; the worker counts each
// attempt before it runs, retries failures with backoff, and parks a job
// after MaxAttempts or a permanent failure, for an operator (rathaus
// parked). A crash, kill -9 included, loses no job: the next start tries
// again with the same delivery id, which receivers de-duplicate by.
// Matrix sends have their own outbox (appservice.Sender).
package outbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/store"
)

// ErrPermanent marks a failure a retry will not fix: the job is parked at
// once.
var ErrPermanent = errors.New("outbox: permanent failure")

// Handler runs one attempt of a job of its kind. It returns nil once the
// effect happened, an error wrapping ErrPermanent if it never will, any
// other error to be retried.
type Handler interface {
	Run(ctx context.Context, job store.Job) error
}

// HandlerFunc is a Handler.
type HandlerFunc func(ctx context.Context, job store.Job) error

// Run calls f.
func (f HandlerFunc) Run(ctx context.Context, job store.Job) error { return f(ctx, job) }

// Store is what the worker needs of the database (store.Store).
type Store interface {
	DueJobs(ctx context.Context, now time.Time, limit int) ([]store.Job, error)
	StartJob(ctx context.Context, id int64) (bool, error)
	FinishJob(ctx context.Context, id int64, attemptErr error, next time.Time, park bool) error
	NextJobDue(ctx context.Context) (time.Time, error)
	JobStats(ctx context.Context) (store.JobStats, error)
}

// Defaults of Options.
const (
	DefaultMaxAttempts = 12
	DefaultTimeout     = 30 * time.Second
	DefaultConcurrency = 4
	DefaultPoll        = 5 * time.Second
	firstBackoff       = 10 * time.Second
	maxBackoff         = time.Hour
)

// Options configure a Worker.
type Options struct {
	Store    Store
	Handlers map[string]Handler
	Log      zerolog.Logger
	// MaxAttempts: a job is parked after this many failed attempts
	// (default 12: retries over about 3½ hours).
	MaxAttempts int
	// Timeout bounds one attempt (default 30 s).
	Timeout time.Duration
	// Concurrency is how many attempts run at once (default 4).
	Concurrency int
	// Poll is how often the worker looks for due jobs without being woken
	// (default 5 s).
	Poll time.Duration
	// Backoff is the wait before retry n (1-based); default exponential
	// from 10 s to 1 h with ±20 % jitter.
	Backoff func(n int) time.Duration
	// Registerer, if set, gets the outbox's metrics.
	Registerer prometheus.Registerer
}

// Worker runs due jobs.
type Worker struct {
	opts   Options
	log    zerolog.Logger
	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup

	statsMu sync.Mutex
	stats   store.JobStats

	attempts *prometheus.CounterVec
}

// New makes a worker; Start runs it.
func New(opts Options) (*Worker, error) {
	if opts.Store == nil || len(opts.Handlers) == 0 {
		return nil, errors.New("outbox: a worker needs a store and handlers")
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	if opts.Backoff == nil {
		opts.Backoff = Backoff
	}
	w := &Worker{opts: opts, log: opts.Log.With().Str("component", "outbox").Logger(), wake: make(chan struct{}, 1),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rathaus_outbox_attempts_total",
			Help: "Attempts of outbox jobs, by kind and result (done, retry, parked)."}, []string{"kind", "result"})}
	if r := opts.Registerer; r != nil {
		gauge := func(name, help string, f func(store.JobStats) float64) prometheus.Collector {
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
				w.statsMu.Lock()
				defer w.statsMu.Unlock()
				return f(w.stats)
			})
		}
		for _, c := range []prometheus.Collector{w.attempts,
			gauge("rathaus_outbox_jobs_pending", "Outbox jobs waiting to be done (the backlog).", func(s store.JobStats) float64 { return float64(s.Pending) }),
			gauge("rathaus_outbox_jobs_parked", "Outbox jobs parked for an operator (rathaus parked).", func(s store.JobStats) float64 { return float64(s.Parked) }),
			gauge("rathaus_outbox_oldest_pending_age_seconds", "Age of the oldest pending outbox job; 0 if none.", func(s store.JobStats) float64 {
				if s.OldestPending.IsZero() {
					return 0
				}
				return time.Since(s.OldestPending).Seconds()
			}),
		} {
			if err := r.Register(c); err != nil {
				return nil, fmt.Errorf("outbox: %w", err)
			}
		}
	}
	return w, nil
}

// Backoff is the default wait before retry n: 10 s, 20 s, 40 s, … at most
// 1 h, each ±20 %.
func Backoff(n int) time.Duration {
	d := firstBackoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64())) //nolint:gosec // jitter, not security
}

// Start runs the worker until Stop.
func (w *Worker) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.loop(ctx)
	}()
}

// Stop stops the worker and waits for running attempts. An attempt cut
// short is tried again at the next start, with the same delivery id.
func (w *Worker) Stop() {
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
}

// Wake makes the worker look for due jobs now (after an enqueue).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Worker) loop(ctx context.Context) {
	for {
		wait := w.opts.Poll
		if n, err := w.runDue(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			w.log.Error().Err(err).Msg("Failed to run due outbox jobs")
		} else if n > 0 {
			wait = 0 // there may be more
		} else if next, err := w.opts.Store.NextJobDue(ctx); err == nil && !next.IsZero() {
			wait = min(wait, max(time.Until(next), 0))
		}
		w.refreshStats(ctx)
		if wait == 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

func (w *Worker) refreshStats(ctx context.Context) {
	st, err := w.opts.Store.JobStats(ctx)
	if err != nil {
		return
	}
	w.statsMu.Lock()
	w.stats = st
	w.statsMu.Unlock()
}

// runDue runs the due jobs, Concurrency at a time; it returns how many.
func (w *Worker) runDue(ctx context.Context) (int, error) {
	jobs, err := w.opts.Store.DueJobs(ctx, time.Now(), 4*w.opts.Concurrency)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, w.opts.Concurrency)
	var wg sync.WaitGroup
	for _, job := range jobs {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			w.attempt(ctx, job)
		}()
	}
	wg.Wait()
	return len(jobs), ctx.Err()
}

// attempt runs one attempt of a job and records its outcome.
func (w *Worker) attempt(ctx context.Context, job store.Job) {
	log := w.log.With().Int64("job_id", job.ID).Str("kind", job.Kind).Str("delivery_id", job.DeliveryID).Logger()
	ok, err := w.opts.Store.StartJob(ctx, job.ID)
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			log.Error().Err(err).Msg("Failed to count an outbox attempt")
		}
		return
	}
	job.Attempts++
	var runErr error
	if h, known := w.opts.Handlers[job.Kind]; !known {
		runErr = fmt.Errorf("%w: no handler for jobs of kind %q", ErrPermanent, job.Kind)
	} else {
		actx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
		runErr = h.Run(actx, job)
		cancel()
	}
	if ctx.Err() != nil {
		return // stopping: the attempt counts, the job stays pending
	}
	park := runErr != nil && (errors.Is(runErr, ErrPermanent) || job.Attempts >= w.opts.MaxAttempts)
	next := time.Now().Add(w.opts.Backoff(job.Attempts))
	if err := w.opts.Store.FinishJob(ctx, job.ID, runErr, next, park); err != nil {
		log.Error().Err(err).Msg("Failed to record an outbox attempt")
		return
	}
	switch {
	case runErr == nil:
		w.attempts.WithLabelValues(job.Kind, "done").Inc()
		log.Debug().Int("attempts", job.Attempts).Msg("Outbox job done")
	case park:
		w.attempts.WithLabelValues(job.Kind, "parked").Inc()
		log.Warn().Err(runErr).Int("attempts", job.Attempts).Msg("Outbox job parked; see rathaus parked")
	default:
		w.attempts.WithLabelValues(job.Kind, "retry").Inc()
		log.Info().Err(runErr).Int("attempts", job.Attempts).Time("retry_at", next).Msg("Outbox job failed, will retry")
	}
}
