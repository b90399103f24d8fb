package ingest_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/bench/internal/ingest"
	"github.com/rathaus-de/rathaus/bench/internal/procstat"
	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestSmallestRun runs the benchmark in a small form, with real
// processes: 5000 events in 10-event transactions, 8 in flight, once
// against each target (with 300, bare mautrix used less CPU than the
// kernel's 10 ms accounting shows, and its CPU ratio had no baseline). The ratio table must have a row per rathaus
// target with positive ratios, and nothing may be left behind.
func TestSmallestRun(t *testing.T) {
	dendrite := tesths.DendriteBinary(t)
	leftovers := tempDirs(t)
	var stdout, stderr bytes.Buffer
	code := ingest.Main(t.Context(), []string{
		"-reps", "1", "-events", "5000", "-workloads", "txn10x8",
		"-targets", "bare,rathaus-sqlite,rathaus-postgres", "-dendrite", dendrite,
	}, &stdout, &stderr)
	t.Logf("stderr:\n%s", stderr.String())
	t.Logf("stdout:\n%s", stdout.String())
	require.Equal(t, ingest.ExitOK, code)

	rows := ratioRows(t, stdout.String())
	require.Len(t, rows, 2, "a ratio row per rathaus target")
	for _, target := range []string{"rathaus-sqlite", "rathaus-postgres"} {
		row, ok := rows[target]
		require.True(t, ok, "ratio row of %s", target)
		// events/s ratio and CPU ratio
		for i, cell := range row[:2] {
			v, err := strconv.ParseFloat(strings.TrimSuffix(strings.ReplaceAll(cell, ",", ""), "×"), 64)
			require.NoError(t, err, "%s column %d: %q", target, i, cell)
			assert.Positive(t, v, "%s column %d", target, i)
		}
	}
	assert.Contains(t, stdout.String(), "| txn10x8 | bare | ", "bare's own row")
	assert.Equal(t, 3, strings.Count(stderr.String(), "Run finished"), "progress on stderr")
	assertCleanedUp(t, leftovers)
}

// TestCancelStopsEverything: cancelling (Ctrl-C) in the middle of a run
// ends the benchmark at once and leaves no process and no directory.
func TestCancelStopsEverything(t *testing.T) {
	dendrite := tesths.DendriteBinary(t)
	leftovers := tempDirs(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Cancel once events are flowing: the first progress line.
	stderr := &watchWriter{want: "Running", seen: make(chan struct{})}
	var stdout bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- ingest.Main(ctx, []string{
			"-reps", "1", "-events", "100000", "-workloads", "txn1x1", "-progress", "300ms",
			"-targets", "rathaus-postgres", "-dendrite", dendrite,
		}, &stdout, stderr)
	}()
	select {
	case <-stderr.seen:
	case code := <-done:
		t.Fatalf("benchmark ended early with %d:\n%s", code, stderr.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("no run in progress after 90s:\n%s", stderr.String())
	}
	cancelled := time.Now()
	cancel()
	select {
	case code := <-done:
		t.Logf("stopped %s after the cancel:\n%s", time.Since(cancelled), stderr.String())
		assert.Equal(t, ingest.ExitFailure, code)
	case <-time.After(60 * time.Second):
		t.Fatalf("benchmark did not stop within 60s of the cancel:\n%s", stderr.String())
	}
	assertCleanedUp(t, leftovers)
}

// tempDirs lists the benchmark's temporary directories that exist now.
func tempDirs(t *testing.T) map[string]bool {
	t.Helper()
	dirs := map[string]bool{}
	for _, pattern := range []string{"rathaus-bench-ingest-*", "rathaus-bench-pg-*"} {
		for _, base := range []string{os.TempDir(), "/tmp"} {
			matches, err := filepath.Glob(filepath.Join(base, pattern))
			require.NoError(t, err)
			for _, m := range matches {
				dirs[m] = true
			}
		}
	}
	return dirs
}

// assertCleanedUp checks that no child process of the test is left and
// no temporary directory but those that existed before.
func assertCleanedUp(t *testing.T, before map[string]bool) {
	t.Helper()
	for dir := range tempDirs(t) {
		assert.True(t, before[dir], "%s left behind", dir)
	}
	children, err := procstat.Children(os.Getpid())
	require.NoError(t, err)
	for _, pid := range children {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		t.Errorf("child process %d left running: %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
	}
}

// ratioRows returns the cells after workload and target of each row of
// the ratio table, by target.
func ratioRows(t *testing.T, out string) map[string][]string {
	t.Helper()
	_, table, ok := strings.Cut(out, "### Ratio to bare mautrix")
	require.True(t, ok, "the report has a ratio table")
	table, _, _ = strings.Cut(table, "\n### ")
	rows := map[string][]string{}
	for line := range strings.Lines(table) {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) < 4 || strings.TrimSpace(cells[0]) == "workload" || strings.HasPrefix(strings.TrimSpace(cells[0]), "---") {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[cells[1]] = cells[2:]
	}
	return rows
}

// watchWriter collects what is written and closes seen once want appears.
type watchWriter struct {
	want string
	seen chan struct{}

	mu   sync.Mutex
	buf  bytes.Buffer
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
