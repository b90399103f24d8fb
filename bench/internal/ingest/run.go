package ingest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/rathaus-de/rathaus/bench/internal/procstat"
)

const (
	// stallTimeout ends a run in which nothing was acknowledged or handled
	// for this long.
	stallTimeout = 2 * time.Minute
	// coarsePoll is the poll interval while transactions are still being
	// sent: no target can have handled everything before the last 200.
	coarsePoll = 250 * time.Millisecond
	// finePollMin bounds the poll interval after the last 200 from below;
	// it is elapsed/finePollDivisor otherwise, so the end is known to
	// within 1% without scraping rathaus's metrics hundreds of times a
	// second.
	finePollMin     = 2 * time.Millisecond
	finePollDivisor = 100
	pollTimeout     = 10 * time.Second
	// quiet is how little CPU per quiesceStep a freshly started target may
	// use before the run begins, and quiesceMax how long to wait for it.
	quiesceStep = 200 * time.Millisecond
	quiet       = 4 * time.Millisecond
	quiesceMax  = 10 * time.Second
)

// sample is one look at a running run.
type sample struct {
	At      time.Duration // since the first PUT
	Handled int64
	RSS     int64
}

// runResult is what one run measured.
type runResult struct {
	Workload, Target string
	Rep              int
	Events           int
	// Elapsed is from the first PUT until all events were seen handled.
	Elapsed time.Duration
	// LastAck is from the first PUT until the last 200.
	LastAck        time.Duration
	AckP50, AckP99 time.Duration
	// CPU is the target process's, DBCPU PostgreSQL's (0 for others),
	// both over Elapsed.
	CPU, DBCPU time.Duration
	PeakRSS    int64
	Retries    int64
	Samples    []sample
	Log        logSummary
}

// EventsPerSec is the handled rate.
func (r runResult) EventsPerSec() float64 { return float64(r.Events) / r.Elapsed.Seconds() }

// CPUPer1k is the target's CPU seconds per 1,000 events.
func (r runResult) CPUPer1k() float64 { return r.CPU.Seconds() * 1000 / float64(r.Events) }

// DBCPUPer1k is the database server's CPU seconds per 1,000 events.
func (r runResult) DBCPUPer1k() float64 { return r.DBCPU.Seconds() * 1000 / float64(r.Events) }

// runOne runs one workload against a fresh instance of a target.
func (e *env) runOne(ctx context.Context, w Workload, t target, rep int, txns []transaction, events int) (res runResult, err error) {
	res = runResult{Workload: w.Name, Target: t.name, Rep: rep, Events: events}
	dir := filepath.Join(e.work, fmt.Sprintf("rep%d-%s-%s", rep, w.Name, t.name))
	in, err := e.startTarget(ctx, t, dir)
	if err != nil {
		return res, err
	}
	defer func() {
		if stopErr := in.stop(ctx); stopErr != nil && err == nil && ctx.Err() == nil {
			e.log.Warn().Err(stopErr).Str("target", t.name).Msg("Target did not stop cleanly")
		}
		if sum, logErr := readLogSummary(in.proc.LogFile()); logErr == nil {
			res.Log = sum
		}
	}()
	e.quiesce(ctx, in)

	base, err := in.handled(ctx, e.client)
	if err != nil {
		return res, err
	}
	cpu0, db0, err := in.cpu()
	if err != nil {
		return res, err
	}
	s := &sender{client: e.client, base: in.base, token: in.hsToken}
	type sent struct {
		latencies []time.Duration
		at        time.Duration
		err       error
	}
	sendCtx, cancelSend := context.WithCancel(ctx)
	defer cancelSend()
	done := make(chan sent, 1)
	start := time.Now()
	go func() {
		lat, err := s.sendAll(sendCtx, txns, w.InFlight)
		done <- sent{latencies: lat, at: time.Since(start), err: err}
	}()

	var (
		result       *sent
		lastProgress = start
		lastChange   = start
		lastHandled  int64
		lastAcked    int64
	)
	for {
		interval := coarsePoll
		if result != nil {
			interval = max(finePollMin, min(coarsePoll, time.Since(start)/finePollDivisor))
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-in.proc.Done():
			return res, fmt.Errorf("%s %w during the run: %w\n%s", t.name, ErrTargetExited, in.proc.Err(), in.proc.LogTail(30))
		case r := <-done:
			if r.err != nil {
				return res, r.err
			}
			result = &r
			continue
		case <-time.After(interval):
		}
		pollCtx, cancel := context.WithTimeout(ctx, pollTimeout)
		n, pollErr := in.handled(pollCtx, e.client)
		cancel()
		at := time.Since(start)
		if pollErr != nil {
			e.log.Warn().Err(pollErr).Str("target", t.name).Msg("Failed to read the handled count")
			continue
		}
		n -= base
		mem, _ := procstat.ReadMemory(in.proc.Pid())
		res.Samples = append(res.Samples, sample{At: at, Handled: n, RSS: mem.RSS})
		if n >= int64(events) {
			cpu1, db1, err := in.cpu()
			if err != nil {
				return res, err
			}
			res.Elapsed, res.CPU, res.DBCPU = at, cpu1-cpu0, db1-db0
			break
		}
		acked := s.acked.Load()
		if n != lastHandled || acked != lastAcked {
			lastChange, lastHandled, lastAcked = time.Now(), n, acked
		} else if time.Since(lastChange) > stallTimeout {
			lastPut := "none"
			if err := s.takeLastErr(); err != nil {
				lastPut = err.Error()
			}
			return res, fmt.Errorf("%w: %s handled %d and acknowledged %d of %d events, nothing for %s (last PUT error: %s)\n%s",
				ErrStalled, t.name, n, acked, events, stallTimeout, lastPut, in.proc.LogTail(20))
		}
		if time.Since(lastProgress) >= e.progress {
			lastProgress = time.Now()
			ev := e.log.Info().Str("target", t.name).Str("workload", w.Name).
				Int64("acked", acked).Int64("handled", n).Int("of", events).
				Int64("rss_mib", mem.RSS>>20).Int64("retried_puts", s.retries.Load())
			if err := s.takeLastErr(); err != nil {
				ev = ev.AnErr("last_put_error", err)
			}
			ev.Msg("Running")
		}
	}

	if result == nil {
		// Everything is handled, so every PUT was answered: only the
		// sender's bookkeeping is left.
		select {
		case r := <-done:
			if r.err != nil {
				return res, r.err
			}
			result = &r
		case <-time.After(30 * time.Second):
			return res, errors.New("events handled but the sender did not finish")
		}
	}
	res.LastAck = result.at
	res.AckP50 = percentile(result.latencies, 0.50)
	res.AckP99 = percentile(result.latencies, 0.99)
	res.Retries = s.retries.Load()
	mem, err := procstat.ReadMemory(in.proc.Pid())
	if err != nil {
		return res, fmt.Errorf("failed to read the peak RSS of %s: %w", t.name, err)
	}
	res.PeakRSS = mem.PeakRSS
	return res, nil
}

// cpu returns the CPU time of the target process and of its database
// server (0 without one).
func (in *instance) cpu() (proc, db time.Duration, err error) {
	if proc, err = procstat.CPU(in.proc.Pid()); err != nil {
		return 0, 0, fmt.Errorf("failed to read the CPU time of %s: %w", in.target.name, err)
	}
	if in.dbPid != 0 {
		if db, err = procstat.TreeCPU(in.dbPid); err != nil {
			return 0, 0, fmt.Errorf("failed to read PostgreSQL's CPU time: %w", err)
		}
	}
	return proc, db, nil
}

// quiesce waits until a freshly started target (and its database) stops
// working on its start-up, so that start-up work is not billed to the run.
func (e *env) quiesce(ctx context.Context, in *instance) {
	deadline := time.Now().Add(quiesceMax)
	calm := 0
	p0, d0, err := in.cpu()
	for err == nil && calm < 2 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(quiesceStep):
		}
		var p1, d1 time.Duration
		if p1, d1, err = in.cpu(); err != nil {
			return
		}
		if p1-p0+d1-d0 <= quiet {
			calm++
		} else {
			calm = 0
		}
		p0, d0 = p1, d1
	}
	if calm < 2 {
		e.log.Warn().Str("target", in.target.name).Msg("Target still busy after its start; running anyway")
	}
}

// percentile returns the p-quantile (0..1) of ds by the nearest-rank
// method; 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := int(math.Ceil(p * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
