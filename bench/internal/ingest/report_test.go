package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// fakeRun is a run of events events that took elapsed and cpu.
func fakeRun(workload, target string, rep, events int, elapsed, cpu, dbCPU time.Duration) runResult {
	return runResult{Workload: workload, Target: target, Rep: rep, Events: events,
		Elapsed: elapsed, CPU: cpu, DBCPU: dbCPU, AckP50: time.Millisecond, AckP99: 10 * time.Millisecond,
		PeakRSS: 30 << 20,
		Samples: []sample{
			{At: elapsed / 4, Handled: int64(events / 4), RSS: 20 << 20},
			{At: elapsed / 2, Handled: int64(events / 2), RSS: 25 << 20},
			{At: elapsed, Handled: int64(events), RSS: 30 << 20},
		}}
}

func TestReport(t *testing.T) {
	txn, _ := workloadByName("txn100x1")
	backlog, _ := workloadByName("backlog")
	r := report{
		meta:      reportMeta{Command: "go run ./bench/ingest", Reps: 2, Events: map[string]int{"txn100x1": 1000, "backlog": 1000}},
		workloads: []Workload{txn, backlog},
		targets: []target{{name: TargetBare}, {name: TargetSQLite, db: dbSQLite},
			{name: TargetPostgres, db: dbPostgres}},
	}
	for rep := 1; rep <= 2; rep++ {
		for _, wl := range []string{"txn100x1", "backlog"} {
			// bare: 10,000 events/s and 0.05 s CPU per 1k events;
			// SQLite a tenth of the rate at 20× the CPU; PostgreSQL
			// a twentieth, 10× the CPU plus 10× in the server.
			r.results = append(r.results,
				fakeRun(wl, TargetBare, rep, 1000, 100*time.Millisecond, 50*time.Millisecond, 0),
				fakeRun(wl, TargetSQLite, rep, 1000, time.Second, time.Second, 0),
				fakeRun(wl, TargetPostgres, rep, 1000, 2*time.Second, 500*time.Millisecond, 500*time.Millisecond))
		}
	}
	var b strings.Builder
	r.write(&b)
	out := b.String()
	for _, want := range []string{
		"| txn100x1 | bare | 10,000 | 1.0× | 1.00 | 10.0 | 0.0500 | 1.0× | – | 30 | 0 |",
		"| txn100x1 | rathaus-sqlite | 1,000 | 0.10× | 1.00 | 10.0 | 1.00 | 20× | – | 30 | 0 |",
		"| txn100x1 | rathaus-postgres | 500 | 0.050× | 1.00 | 10.0 | 0.500 | 10× | 0.500 | 30 | 0 |",
		"| txn100x1 | rathaus-sqlite | 0.10× | 20× | – |",
		"| txn100x1 | rathaus-postgres | 0.050× | 10× | 20× |",
		"| rathaus-sqlite | 1,000 | 1,000 | 1,000 | 20 / 25 / 25 / 30 | 30 |",
		"| rathaus-postgres | 4 | 0 | 0 | 0 | 0 |  |",
	} {
		assert.Contains(t, out, want)
	}
	assert.Len(t, ratioRows(out), 4, "one ratio row per non-bare target and workload")
}

// ratioRows returns the data rows of the ratio table.
func ratioRows(report string) []string {
	_, table, ok := strings.Cut(report, "### Ratio to bare mautrix")
	if !ok {
		return nil
	}
	table, _, _ = strings.Cut(table, "\n### ")
	var rows []string
	for line := range strings.Lines(table) {
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| workload") {
			rows = append(rows, strings.TrimSpace(line))
		}
	}
	return rows
}
