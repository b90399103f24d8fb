package ingest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/internal/pgserver"
)

// Exit codes of Main.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// env is what every run shares: the work directory, the homeserver, the
// PostgreSQL server and the tokens.
type env struct {
	log    zerolog.Logger
	root   string // the module
	work   string // temporary directory of this benchmark
	client *http.Client

	dendrite         string
	progress         time.Duration
	hs               *devhs.Server // for rathaus targets
	sink             *sink         // the appservice URL Dendrite knows
	pg               *pgserver.Server
	serverName       string
	asToken, hsToken string // rathaus's, registered with Dendrite
	bareToken        string
}

// Main runs the benchmark with the command line args; the table goes to
// stdout, progress to stderr. It returns the exit code. Cancelling ctx
// (Ctrl-C) stops every process and removes every temporary file.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseOptions(args, stderr)
	if err != nil {
		return ExitUsage
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly, NoColor: !isTerminal(stderr)}).
		With().Timestamp().Logger()
	started := time.Now()
	e, targets, notes, cleanup, err := setup(ctx, opts, log)
	defer cleanup()
	if err != nil {
		log.Error().Err(err).Msg("Failed to set up the benchmark")
		return ExitFailure
	}
	results, runErr := e.runAll(ctx, opts, targets)

	meta := reportMeta{
		Command: commandLine(opts.Args),
		Started: started,
		Took:    time.Since(started),
		Machine: machine(ctx),
		Notes:   notes,
		Reps:    opts.Reps,
		Events:  map[string]int{},
	}
	var chosen []Workload
	for _, name := range opts.Workloads {
		wl, _ := workloadByName(name)
		chosen = append(chosen, wl)
		meta.Events[wl.Name] = wl.Events(opts)
	}
	if runErr != nil {
		if len(results) == 0 {
			log.Error().Err(runErr).Msg("Benchmark failed")
			return ExitFailure
		}
		meta.Notes = append(meta.Notes, fmt.Sprintf("**incomplete**: stopped after %d runs: %v", len(results), firstLine(runErr)))
	}
	report{meta: meta, workloads: chosen, targets: targets, results: results}.write(stdout)
	if runErr != nil {
		log.Error().Err(runErr).Msg("Benchmark failed; the table holds the runs done before")
		return ExitFailure
	}
	if opts.Keep {
		log.Info().Str("dir", e.work).Msg("Kept the work directory")
	}
	return ExitOK
}

// runAll runs every repetition, workload and target; it returns the
// results so far with the first error.
func (e *env) runAll(ctx context.Context, opts Options, targets []target) ([]runResult, error) {
	var results []runResult
	total := opts.Reps * len(opts.Workloads) * len(targets)
	for rep := 1; rep <= opts.Reps; rep++ {
		for _, name := range opts.Workloads {
			wl, _ := workloadByName(name)
			events := wl.Events(opts)
			runID, err := randomHex(6)
			if err != nil {
				return results, err
			}
			// One set of transactions per repetition and workload: every
			// target gets the very same bytes.
			txns, err := makeTransactions(runID, e.serverName, opts.Rooms, events, wl.TxnSize)
			if err != nil {
				return results, err
			}
			// Rotate the order per repetition, so no target always runs
			// right after the same other one.
			order := slices.Clone(targets)
			k := (rep - 1) % len(order)
			order = append(order[k:], order[:k]...)
			for _, t := range order {
				e.log.Info().Int("run", len(results)+1).Int("of", total).Int("rep", rep).
					Str("workload", wl.Name).Str("target", t.name).Int("events", events).Msg("Run started")
				res, err := e.runOne(ctx, wl, t, rep, txns, events)
				if err != nil {
					return results, fmt.Errorf("rep %d, %s, %s: %w", rep, wl.Name, t.name, err)
				}
				results = append(results, res)
				e.log.Info().Str("workload", wl.Name).Str("target", t.name).
					Str("events_per_s", thousands(res.EventsPerSec())).
					Str("ack_p50_ms", sig3(ms(res.AckP50))).Str("ack_p99_ms", sig3(ms(res.AckP99))).
					Str("cpu_s_per_1k", sig3(res.CPUPer1k())).Str("db_cpu_s_per_1k", sig3(res.DBCPUPer1k())).
					Str("peak_rss_mib", mib(float64(res.PeakRSS))).Int64("retried_puts", res.Retries).
					Int("log_warn", res.Log.ByLevel["warn"]).Int("log_error", res.Log.ByLevel["error"]).
					Msg("Run finished")
			}
		}
	}
	return results, nil
}

func newClient() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Minute,
		Transport: &http.Transport{
			Proxy:               nil, // loopback only
			MaxIdleConns:        64,
			MaxIdleConnsPerHost: 32,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// isTerminal reports whether w is a terminal, which gets colours.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// commandLine is how to repeat this run.
func commandLine(args []string) string {
	parts := []string{"go", "run", "./bench/ingest"}
	for _, a := range args {
		if strings.ContainsAny(a, " \t'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}
