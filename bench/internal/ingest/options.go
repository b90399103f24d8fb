package ingest

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Target names as the -targets flag takes them. A -before revision adds
// "rathaus@<rev>-sqlite" and "rathaus@<rev>-postgres" for the rathaus kinds
// chosen.
const (
	TargetBare     = "bare"
	TargetSQLite   = "rathaus-sqlite"
	TargetPostgres = "rathaus-postgres"
)

// allTargets is the default and the order of the report.
var allTargets = []string{TargetBare, TargetSQLite, TargetPostgres}

// Options are the command line of the benchmark.
type Options struct {
	// Reps is how often every workload runs against every target.
	Reps int
	// Events is the number of events of each workload except the backlog.
	Events int
	// EventsTxn1 overrides Events for the workloads of 1-event
	// transactions, the slowest ones; 0 means Events.
	EventsTxn1 int
	// Backlog is the number of events of the backlog workload.
	Backlog int
	// Rooms is how many rooms the events are spread over.
	Rooms int
	// Workloads and Targets choose what runs, by name.
	Workloads []string
	Targets   []string
	// Before is a git revision to build rathaus from as extra targets.
	Before string
	// Dendrite is the Dendrite binary for rathaus's homeserver.
	Dendrite string
	// Keep keeps the work directory (logs, configs, databases).
	Keep bool
	// Progress is how often a running run reports on stderr.
	Progress time.Duration
	// Args is the command line, for the report header.
	Args []string
}

// errUsage is returned by parseOptions for a bad command line; the flag
// package has already said why.
var errUsage = errors.New("usage")

func parseOptions(args []string, stderr io.Writer) (Options, error) {
	o := Options{Args: args}
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./bench/ingest [flags]\n\n"+
			"Pushes appservice transactions to rathaus and to a bare mautrix appservice\n"+
			"(bench/bareas), each a real process, and prints a markdown table of events/s\n"+
			"handled, ack latency, CPU per 1,000 events and peak RSS with the ratio to bare\n"+
			"mautrix. Progress goes to stderr, the table to stdout.\n\n"+
			"Workloads: %s\n  txn<S>x<F>: transactions of S events, F in flight;\n"+
			"  backlog: a homeserver's backlog, 100-event transactions one at a time.\n\n", workloadNames())
		fs.PrintDefaults()
	}
	var workloads, targets string
	fs.IntVar(&o.Reps, "reps", 3, "repetitions of every workload against every target")
	fs.IntVar(&o.Events, "events", 20000, "events per run of each workload except backlog")
	fs.IntVar(&o.EventsTxn1, "events-txn1", 0, "events per run of the 1-event-transaction workloads (0: -events)")
	fs.IntVar(&o.Backlog, "backlog", 100000, "events of the backlog workload")
	fs.IntVar(&o.Rooms, "rooms", 50, "rooms the events are spread over")
	fs.StringVar(&workloads, "workloads", strings.Join(workloadNames(), ","), "comma-separated workloads to run")
	fs.StringVar(&targets, "targets", strings.Join(allTargets, ","), "comma-separated targets: "+strings.Join(allTargets, ", "))
	fs.StringVar(&o.Before, "before", "", "git revision to build rathaus from as extra targets rathaus@<rev>-sqlite/-postgres, run in the same interleaving")
	fs.StringVar(&o.Dendrite, "dendrite", os.Getenv("RATHAUS_DENDRITE_BIN"), "Dendrite binary (default: $RATHAUS_DENDRITE_BIN, else .cache/bin/dendrite of the module; `make dendrite` builds it)")
	fs.DurationVar(&o.Progress, "progress", 10*time.Second, "how often a running run reports its progress on stderr")
	fs.BoolVar(&o.Keep, "keep", false, "keep the work directory with every process's log and config")
	if err := fs.Parse(args); err != nil {
		return o, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return o, errUsage
	}
	o.Workloads = splitList(workloads)
	o.Targets = splitList(targets)
	if err := o.validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return o, errUsage
	}
	return o, nil
}

func (o Options) validate() error {
	var errs []error
	if o.Reps < 1 {
		errs = append(errs, errors.New("-reps must be at least 1"))
	}
	if o.Events < 1 || o.EventsTxn1 < 0 || o.Backlog < 1 {
		errs = append(errs, errors.New("-events and -backlog must be at least 1, -events-txn1 at least 0"))
	}
	if o.Progress <= 0 {
		errs = append(errs, errors.New("-progress must be positive"))
	}
	if o.Rooms < 1 {
		errs = append(errs, errors.New("-rooms must be at least 1"))
	}
	if len(o.Workloads) == 0 {
		errs = append(errs, errors.New("-workloads names none"))
	}
	for _, w := range o.Workloads {
		if _, ok := workloadByName(w); !ok {
			errs = append(errs, fmt.Errorf("unknown workload %q (known: %s)", w, strings.Join(workloadNames(), ", ")))
		}
	}
	if len(o.Targets) == 0 {
		errs = append(errs, errors.New("-targets names none"))
	}
	for _, t := range o.Targets {
		if !slices.Contains(allTargets, t) {
			errs = append(errs, fmt.Errorf("unknown target %q (known: %s)", t, strings.Join(allTargets, ", ")))
		}
	}
	if o.Before != "" && !slices.Contains(o.Targets, TargetSQLite) && !slices.Contains(o.Targets, TargetPostgres) {
		errs = append(errs, errors.New("-before needs a rathaus target"))
	}
	return errors.Join(errs...)
}

// splitList splits a comma-separated flag value, dropping empty items and
// duplicates.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" && !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out
}
