// Command video measures rathaus's embedded media server against LiveKit
// with the same load in one run (docs/performance.md, "Video"): one
// publisher sending synthetic VP8 at a fixed packet rate to 10, 20 and 40
// subscribers (server CPU µs per forwarded packet, RSS), and a join storm
// (subscribers joining within a few seconds; time to the first packet).
// Both servers run as their own processes on 127.0.0.1; the clients are
// pion, in this process. It lives in its own module so LiveKit's client
// SDK never enters rathaus's go.mod.
//
//	go run . -livekit ../../.cache/bin/livekit-server
//	go run . -serve-embedded   (the embedded server process, started by the tool)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	livekit     string
	targets     []string
	subscribers []int
	pps         int
	payload     int
	duration    time.Duration
	warmup      time.Duration
	storm       int
	stormWindow time.Duration
	reps        int
	cpuProfile  string
}

func main() {
	var o options
	var targets, subs string
	serve := flag.Bool("serve-embedded", false, "run the embedded media server (the tool starts itself with it)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the embedded server process here (go tool pprof -top)")
	flag.StringVar(&o.livekit, "livekit", "../../.cache/bin/livekit-server", "the livekit-server binary (make livekit)")
	flag.StringVar(&targets, "targets", "embedded,livekit,livekit-gcc", "servers to measure (livekit-gcc: LiveKit with pion's send-side estimator, as the embedded server)")
	flag.StringVar(&subs, "subscribers", "10,20,40", "subscriber counts of the fan-out workload")
	flag.IntVar(&o.pps, "pps", 500, "video packets per second the publisher sends")
	flag.IntVar(&o.payload, "payload", 1000, "bytes of each packet's payload")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per workload")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "time before measuring")
	flag.IntVar(&o.storm, "storm", 50, "subscribers of the join storm (0: none)")
	flag.DurationVar(&o.stormWindow, "storm-window", 5*time.Second, "time over which the storm's subscribers join")
	flag.IntVar(&o.reps, "reps", 1, "repetitions, interleaving the targets")
	flag.Parse()
	if *serve {
		if err := serveEmbedded(o.cpuProfile); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	o.targets = strings.Split(targets, ",")
	for _, s := range strings.Split(subs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bad -subscribers %q\n", subs)
			os.Exit(2)
		}
		o.subscribers = append(o.subscribers, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/video:", err)
		os.Exit(1)
	}
}

// target is one server under load.
type target interface {
	name() string
	pid() int
	// publisher starts a publisher in call and returns its stop function.
	publisher(ctx context.Context, call string, pps, payload int) (func(), error)
	// subscriber joins call and returns its packet counter, the time of
	// its first packet, and its stop function.
	subscriber(ctx context.Context, call, id string) (*counter, func(), error)
	newCall(ctx context.Context, call string) error
	close()
}

type result struct {
	target, workload           string
	subscribers                int
	forwarded                  int64
	cpuMicros                  float64
	usPerPacket, expectedRatio float64
	rssKB                      int64
	p50, p99                   time.Duration
	joined                     int
}

func run(ctx context.Context, o options) error {
	var results []result
	for rep := 0; rep < o.reps; rep++ {
		for _, name := range o.targets {
			t, err := startTarget(ctx, name, o)
			if err != nil {
				return err
			}
			for _, n := range o.subscribers {
				r, err := fanOut(ctx, t, o, n, fmt.Sprintf("fan-%d-%d", n, rep))
				if err != nil {
					t.close()
					return fmt.Errorf("%s, %d subscribers: %w", name, n, err)
				}
				results = append(results, r)
				fmt.Fprintf(os.Stderr, "%s fan-out %d: %.2f µs/packet, %d packets, RSS %d MiB\n", name, n, r.usPerPacket, r.forwarded, r.rssKB/1024)
			}
			if o.storm > 0 {
				r, err := joinStorm(ctx, t, o, fmt.Sprintf("storm-%d", rep))
				if err != nil {
					t.close()
					return fmt.Errorf("%s, join storm: %w", name, err)
				}
				results = append(results, r)
				fmt.Fprintf(os.Stderr, "%s join storm: p50 %s, p99 %s (%d joined)\n", name, r.p50, r.p99, r.joined)
			}
			t.close()
		}
	}
	report(o, results)
	return nil
}

func startTarget(ctx context.Context, name string, o options) (target, error) {
	switch name {
	case "embedded":
		return startEmbedded(ctx, o.cpuProfile)
	case "livekit":
		return startLiveKit(ctx, o.livekit, false)
	case "livekit-gcc":
		return startLiveKit(ctx, o.livekit, true)
	}
	return nil, fmt.Errorf("unknown target %q", name)
}

// fanOut: one publisher, n subscribers; CPU of the server process per
// forwarded packet over the measured time.
func fanOut(ctx context.Context, t target, o options, n int, call string) (result, error) {
	r := result{target: t.name(), workload: "fan-out", subscribers: n}
	if err := t.newCall(ctx, call); err != nil {
		return r, err
	}
	stopPub, err := t.publisher(ctx, call, o.pps, o.payload)
	if err != nil {
		return r, err
	}
	defer stopPub()
	counters := make([]*counter, 0, n)
	for i := range n {
		c, stop, err := t.subscriber(ctx, call, fmt.Sprintf("sub-%d", i))
		if err != nil {
			return r, err
		}
		defer stop()
		counters = append(counters, c)
	}
	time.Sleep(o.warmup)
	cpu0, err := cpuMicros(t.pid())
	if err != nil {
		return r, err
	}
	pk0 := total(counters)
	time.Sleep(o.duration)
	cpu1, err := cpuMicros(t.pid())
	if err != nil {
		return r, err
	}
	r.forwarded = total(counters) - pk0
	r.cpuMicros = cpu1 - cpu0
	if r.forwarded > 0 {
		r.usPerPacket = r.cpuMicros / float64(r.forwarded)
	}
	r.expectedRatio = float64(r.forwarded) / (float64(o.pps) * o.duration.Seconds() * float64(n))
	r.rssKB, _ = rssKB(t.pid())
	return r, nil
}

// joinStorm: a publisher, then o.storm subscribers joining evenly over
// o.stormWindow; each one's time from starting to join to its first
// packet.
func joinStorm(ctx context.Context, t target, o options, call string) (result, error) {
	r := result{target: t.name(), workload: "join storm", subscribers: o.storm}
	if err := t.newCall(ctx, call); err != nil {
		return r, err
	}
	stopPub, err := t.publisher(ctx, call, o.pps, o.payload)
	if err != nil {
		return r, err
	}
	defer stopPub()
	time.Sleep(time.Second)
	type joined struct {
		start time.Time
		c     *counter
	}
	done := make(chan joined, o.storm)
	gap := o.stormWindow / time.Duration(o.storm)
	var stopMu sync.Mutex
	var stops []func()
	for i := range o.storm {
		start := time.Now()
		go func() {
			c, stop, err := t.subscriber(ctx, call, fmt.Sprintf("storm-%d", i))
			if err != nil {
				done <- joined{start: start}
				return
			}
			stopMu.Lock()
			stops = append(stops, stop)
			stopMu.Unlock()
			done <- joined{start: start, c: c}
		}()
		time.Sleep(gap)
	}
	var all []joined
	for range o.storm {
		all = append(all, <-done)
	}
	deadline := time.Now().Add(15 * time.Second)
	var lat []time.Duration
	for _, j := range all {
		if j.c == nil {
			continue
		}
		for j.c.first().IsZero() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if f := j.c.first(); !f.IsZero() {
			lat = append(lat, f.Sub(j.start))
		}
	}
	for _, stop := range stops {
		stop()
	}
	slices.Sort(lat)
	r.joined = len(lat)
	if len(lat) > 0 {
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	r.rssKB, _ = rssKB(t.pid())
	return r, nil
}

func total(cs []*counter) int64 {
	var n int64
	for _, c := range cs {
		n += c.packets.Load()
	}
	return n
}

// report prints the markdown table: absolute figures and embedded/LiveKit
// ratios.
func report(o options, rs []result) {
	fmt.Printf("\n%s, %d CPUs, Go %s; publisher %d packets/s of %d bytes, %s measured after %s warm-up\n\n",
		time.Now().Format("2006-01-02"), runtime.NumCPU(), runtime.Version(), o.pps, o.payload, o.duration, o.warmup)
	fmt.Println("| workload | server | forwarded packets | delivered | CPU µs/packet | RSS MiB | join p50 | join p99 |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		wl := r.workload
		if r.workload == "fan-out" {
			wl = fmt.Sprintf("1 × %d", r.subscribers)
		} else {
			wl = fmt.Sprintf("join storm, %d", r.subscribers)
		}
		fmt.Printf("| %s | %s | %d | %.0f %% | %.2f | %d | %s | %s |\n", wl, r.target, r.forwarded, r.expectedRatio*100,
			r.usPerPacket, r.rssKB/1024, r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond))
	}
	fmt.Println("\n| workload | CPU per packet, embedded / LiveKit | CPU per packet, embedded / LiveKit with pion's GCC | RSS, embedded / LiveKit | join p99, embedded / LiveKit |")
	fmt.Println("|---|---|---|---|---|")
	type key struct {
		wl string
		n  int
	}
	by := map[key]map[string][]result{}
	var keys []key
	for _, r := range rs {
		k := key{r.workload, r.subscribers}
		if by[k] == nil {
			by[k] = map[string][]result{}
			keys = append(keys, k)
		}
		by[k][r.target] = append(by[k][r.target], r)
	}
	for _, k := range keys {
		e, l := by[k]["embedded"], by[k]["livekit"]
		if len(e) == 0 || len(l) == 0 {
			continue
		}
		avg := func(rs []result, f func(result) float64) float64 {
			s := 0.0
			for _, r := range rs {
				s += f(r)
			}
			return s / float64(len(rs))
		}
		cpu := avg(e, func(r result) float64 { return r.usPerPacket }) / avg(l, func(r result) float64 { return r.usPerPacket })
		cpuGCC := "–"
		if g := by[k]["livekit-gcc"]; len(g) > 0 {
			cpuGCC = fmt.Sprintf("%.2f×", avg(e, func(r result) float64 { return r.usPerPacket })/avg(g, func(r result) float64 { return r.usPerPacket }))
		}
		rss := avg(e, func(r result) float64 { return float64(r.rssKB) }) / avg(l, func(r result) float64 { return float64(r.rssKB) })
		j := avg(e, func(r result) float64 { return float64(r.p99) }) / max(1, avg(l, func(r result) float64 { return float64(r.p99) }))
		name := fmt.Sprintf("1 × %d", k.n)
		if k.wl != "fan-out" {
			name = fmt.Sprintf("join storm, %d", k.n)
			fmt.Printf("| %s | – | – | %.2f× | %.2f× |\n", name, rss, j)
			continue
		}
		fmt.Printf("| %s | %.2f× | %s | %.2f× | – |\n", name, cpu, cpuGCC, rss)
	}
}
