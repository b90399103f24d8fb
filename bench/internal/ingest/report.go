package ingest

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// reportMeta is what the report says about how it was made.
type reportMeta struct {
	Command string
	Started time.Time
	Took    time.Duration
	Machine string
	Notes   []string
	Reps    int
	Events  map[string]int // per workload
}

// report renders the results as markdown.
type report struct {
	meta      reportMeta
	workloads []Workload
	targets   []target
	results   []runResult
}

// runsOf returns the results of one workload and target.
func (r report) runsOf(workload, target string) []runResult {
	var out []runResult
	for _, res := range r.results {
		if res.Workload == workload && res.Target == target {
			out = append(out, res)
		}
	}
	return out
}

// figure summarizes one figure of one workload and target.
func (r report) figure(workload, target string, f func(runResult) float64) spread {
	runs := r.runsOf(workload, target)
	vals := make([]float64, len(runs))
	for i, res := range runs {
		vals[i] = f(res)
	}
	return summarize(vals)
}

func (r report) write(w io.Writer) {
	m := r.meta
	fmt.Fprintf(w, "## Ingest benchmark, %s\n\n", m.Started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- command: `%s`\n", m.Command)
	fmt.Fprintf(w, "- machine: %s\n", m.Machine)
	fmt.Fprintf(w, "- %d repetition(s), interleaved (every workload, then every target, per repetition); took %s\n", m.Reps, m.Took.Round(time.Second))
	for _, n := range m.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	fmt.Fprintln(w)
	for _, wl := range r.workloads {
		fmt.Fprintf(w, "- `%s`: %s\n", wl.Name, wl.Describe(m.Events[wl.Name]))
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "### Results: median (min–max) over the repetitions")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| workload | target | events/s handled | vs bare | ack p50 ms | ack p99 ms | CPU s / 1k events | vs bare | PostgreSQL CPU s / 1k events | peak RSS MiB | retried PUTs |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, wl := range r.workloads {
		bareRate := r.figure(wl.Name, TargetBare, runResult.EventsPerSec)
		bareCPU := r.figure(wl.Name, TargetBare, runResult.CPUPer1k)
		for _, t := range r.targets {
			if len(r.runsOf(wl.Name, t.name)) == 0 {
				continue
			}
			rate := r.figure(wl.Name, t.name, runResult.EventsPerSec)
			cpu := r.figure(wl.Name, t.name, runResult.CPUPer1k)
			db := "–"
			if t.db == dbPostgres {
				db = r.figure(wl.Name, t.name, runResult.DBCPUPer1k).format(sig3)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				wl.Name, t.name,
				rate.format(thousands), ratioOf(rate, bareRate),
				r.figure(wl.Name, t.name, func(x runResult) float64 { return ms(x.AckP50) }).format(sig3),
				r.figure(wl.Name, t.name, func(x runResult) float64 { return ms(x.AckP99) }).format(sig3),
				cpu.format(sig3), ratioOf(cpu, bareCPU), db,
				r.figure(wl.Name, t.name, func(x runResult) float64 { return float64(x.PeakRSS) }).format(mib),
				r.figure(wl.Name, t.name, func(x runResult) float64 { return float64(x.Retries) }).format(count))
		}
	}
	fmt.Fprintln(w)
	r.writeRatios(w)
	r.writeBacklog(w)
	r.writeLogs(w)
}

// writeRatios is the summary: each target's medians divided by bare
// mautrix's.
func (r report) writeRatios(w io.Writer) {
	if !slices.ContainsFunc(r.targets, func(t target) bool { return t.isBare() }) {
		return
	}
	fmt.Fprintln(w, "### Ratio to bare mautrix (medians)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| workload | target | events/s ratio | CPU ratio | CPU ratio incl. PostgreSQL |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|")
	for _, wl := range r.workloads {
		bareRate := r.figure(wl.Name, TargetBare, runResult.EventsPerSec)
		bareCPU := r.figure(wl.Name, TargetBare, runResult.CPUPer1k)
		if bareRate.N == 0 {
			continue
		}
		for _, t := range r.targets {
			if t.isBare() || len(r.runsOf(wl.Name, t.name)) == 0 {
				continue
			}
			cpu := r.figure(wl.Name, t.name, runResult.CPUPer1k)
			withDB := "–"
			if t.db == dbPostgres {
				total := r.figure(wl.Name, t.name, func(x runResult) float64 { return x.CPUPer1k() + x.DBCPUPer1k() })
				withDB = ratioOf(total, bareCPU)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", wl.Name, t.name,
				ratioOf(r.figure(wl.Name, t.name, runResult.EventsPerSec), bareRate), ratioOf(cpu, bareCPU), withDB)
		}
	}
	fmt.Fprintln(w)
}

// backlogPoints are the moments of the drain at which RSS is reported.
var backlogPoints = []float64{0.25, 0.5, 0.75, 1}

// writeBacklog shows whether the drain rate and the memory stay flat.
func (r report) writeBacklog(w io.Writer) {
	i := slices.IndexFunc(r.workloads, func(wl Workload) bool { return wl.Backlog })
	if i < 0 {
		return
	}
	wl := r.workloads[i]
	fmt.Fprintf(w, "### Backlog: drain rate and memory over the drain (medians over the repetitions)\n\n")
	fmt.Fprintln(w, "| target | events/s handled | first half | second half | RSS MiB at 25% / 50% / 75% / 100% of the drain | peak RSS MiB |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---:|")
	for _, t := range r.targets {
		runs := r.runsOf(wl.Name, t.name)
		if len(runs) == 0 {
			continue
		}
		first := r.figure(wl.Name, t.name, func(x runResult) float64 { a, _ := halfRates(x); return a })
		second := r.figure(wl.Name, t.name, func(x runResult) float64 { _, b := halfRates(x); return b })
		rss := make([]string, len(backlogPoints))
		for j, p := range backlogPoints {
			rss[j] = mib(r.figure(wl.Name, t.name, func(x runResult) float64 { return float64(rssAt(x, p)) }).Median)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", t.name,
			thousands(r.figure(wl.Name, t.name, runResult.EventsPerSec).Median),
			thousands(first.Median), thousands(second.Median), strings.Join(rss, " / "),
			mib(r.figure(wl.Name, t.name, func(x runResult) float64 { return float64(x.PeakRSS) }).Median))
	}
	fmt.Fprintln(w)
}

// halfRates returns the handled rate over the first and over the second
// half of a run's events, from its samples.
func halfRates(x runResult) (first, second float64) {
	half := int64(x.Events / 2)
	var t50 time.Duration
	prev := sample{}
	for _, s := range x.Samples {
		if s.Handled >= half {
			// Interpolate between the samples around the half.
			t50 = s.At
			if s.Handled > prev.Handled {
				frac := float64(half-prev.Handled) / float64(s.Handled-prev.Handled)
				t50 = prev.At + time.Duration(frac*float64(s.At-prev.At))
			}
			break
		}
		prev = s
	}
	if t50 <= 0 || t50 >= x.Elapsed {
		return x.EventsPerSec(), x.EventsPerSec()
	}
	return float64(half) / t50.Seconds(), float64(int64(x.Events)-half) / (x.Elapsed - t50).Seconds()
}

// rssAt returns the RSS sampled closest to fraction p of a run.
func rssAt(x runResult, p float64) int64 {
	if len(x.Samples) == 0 {
		return 0
	}
	at := time.Duration(p * float64(x.Elapsed))
	best := x.Samples[0]
	for _, s := range x.Samples {
		if absDur(s.At-at) < absDur(best.At-at) {
			best = s
		}
	}
	return best.RSS
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// writeLogs sums up what the targets logged: log noise and errors under
// load are findings too.
func (r report) writeLogs(w io.Writer) {
	fmt.Fprintln(w, "### What the targets logged (all runs together)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | runs | log lines | warn | error | not JSON | most frequent warnings and errors |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	for _, t := range r.targets {
		var runs, lines, warn, errs, other int
		all := logSummary{Messages: map[string]int{}}
		for _, res := range r.results {
			if res.Target != t.name {
				continue
			}
			runs++
			lines += res.Log.Lines
			warn += res.Log.ByLevel["warn"]
			errs += res.Log.ByLevel["error"] + res.Log.ByLevel["fatal"] + res.Log.ByLevel["panic"]
			other += res.Log.Other
			for k, v := range res.Log.Messages {
				all.Messages[k] += v
			}
		}
		var top []string
		for _, k := range all.topMessages(3) {
			top = append(top, fmt.Sprintf("%s (%s)", strings.ReplaceAll(k, "|", `\|`), count(float64(all.Messages[k]))))
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s |\n", t.name, runs, count(float64(lines)),
			count(float64(warn)), count(float64(errs)), count(float64(other)), strings.Join(top, "; "))
	}
	fmt.Fprintln(w)
}

// ratioOf formats the ratio of two medians.
func ratioOf(x, bare spread) string {
	if x.N == 0 || bare.N == 0 || bare.Median == 0 {
		return "–"
	}
	return ratio(x.Median / bare.Median)
}

func sig3(x float64) string { return sig(x, 3) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
