package ingest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rathaus-de/rathaus/internal/devhs"
)

const (
	readyTimeout = 2 * time.Minute
	stopGrace    = 15 * time.Second
	// processedMetric is what rathaus counts per handled event.
	processedMetric = "rathaus_appservice_events_processed_total"
)

// database kinds of a rathaus target.
const (
	dbSQLite   = "sqlite"
	dbPostgres = "postgres"
)

// target is one side of the comparison.
type target struct {
	name string
	bin  string
	// db is dbSQLite or dbPostgres for rathaus, "" for the bare
	// appservice.
	db string
}

func (t target) isBare() bool { return t.db == "" }

// instance is a started target, fresh for one run.
type instance struct {
	target  target
	proc    *devhs.Process
	base    string // the appservice API, http://host:port
	counter string // bareas's /count or rathaus's /metrics
	hsToken string
	// dbPid is the PostgreSQL postmaster whose CPU counts for this run, or 0.
	dbPid  int
	dropDB func(context.Context) error
}

// startTarget starts a fresh process of t (and for PostgreSQL a fresh
// database) with its files in dir, and waits until it is ready.
func (e *env) startTarget(ctx context.Context, t target, dir string) (*instance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ports, err := devhs.FreePorts(2)
	if err != nil {
		return nil, err
	}
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	in := &instance{target: t, base: "http://" + listen}
	var opts devhs.ProcessOptions
	if t.isBare() {
		in.hsToken = e.bareToken
		in.counter = in.base + "/count"
		opts = devhs.ProcessOptions{Name: t.name, Path: t.bin, Args: []string{"-listen", listen, "-hs-token", in.hsToken}}
	} else {
		metrics := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
		in.hsToken = e.hsToken
		in.counter = "http://" + metrics + "/metrics"
		dbType, dbURI := dbSQLite, filepath.Join(dir, "rathaus.db")
		if t.db == dbPostgres {
			name := "bench_" + strings.ReplaceAll(filepath.Base(dir), "-", "_")
			if dbURI, err = e.pg.CreateDatabase(ctx, name); err != nil {
				return nil, err
			}
			// Every run starts from a clean buffer cache state: what an
			// earlier run left dirty is written now, not during this run.
			if err = e.pg.Exec(ctx, "CHECKPOINT"); err != nil {
				return nil, fmt.Errorf("failed to checkpoint PostgreSQL: %w", err)
			}
			dbType, in.dbPid = dbPostgres, e.pg.Pid()
			in.dropDB = func(ctx context.Context) error { return e.pg.DropDatabase(ctx, name) }
		}
		cfgPath := filepath.Join(dir, "config.yaml")
		cfg := rathausConfig{HomeserverURL: e.hs.URL, ServerName: e.hs.ServerName, Listen: listen, PublicURL: e.sink.url, Metrics: metrics,
			ASToken: e.asToken, HSToken: e.hsToken, DBType: dbType, DBURI: dbURI}
		if err = os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
			return nil, err
		}
		opts = devhs.ProcessOptions{Name: t.name, Path: t.bin, Args: []string{"run", "-c", cfgPath}}
	}
	opts.Dir = dir
	opts.LogFile = filepath.Join(dir, "output.log")
	if in.proc, err = devhs.StartProcess(opts); err != nil {
		in.cleanupDB(ctx)
		return nil, err
	}
	if err = in.waitReady(ctx, e.client); err != nil {
		_ = in.stop(ctx)
		return nil, err
	}
	return in, nil
}

// rathausConfig is the config of one rathaus run: defaults apart from
// what the benchmark needs (JSON logs at info, metrics on, no guest chat,
// the homeserver's pushes going to the sink).
type rathausConfig struct {
	HomeserverURL, ServerName string
	Listen, PublicURL         string
	Metrics                   string
	ASToken, HSToken          string
	DBType, DBURI             string
}

func (c rathausConfig) String() string {
	return fmt.Sprintf(`homeserver:
  url: %q
  server_name: %q
appservice:
  listen: %q
  public_url: %q
  as_token: %q
  hs_token: %q
database:
  type: %s
  uri: %q
logging:
  level: info
  format: json
metrics:
  enabled: true
  listen: %q
authority:
  name: Stadt Benchheim
  ags: "09162000"
guest_chat:
  enabled: false
`, c.HomeserverURL, c.ServerName, c.Listen, c.PublicURL, c.ASToken, c.HSToken, c.DBType, c.DBURI, c.Metrics)
}

// waitReady polls until the appservice API says ready and the counter
// answers.
func (in *instance) waitReady(ctx context.Context, client *http.Client) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var last error
	for {
		select {
		case <-in.proc.Done():
			return fmt.Errorf("%s %w before it was ready: %w\n%s", in.target.name, ErrTargetExited, in.proc.Err(), in.proc.LogTail(30))
		default:
		}
		last = getOK(ctx, client, in.base+"/_matrix/mau/ready")
		if last == nil {
			if _, last = in.handled(ctx, client); last == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last: %w)\n%s", in.target.name, ctx.Err(), last, in.proc.LogTail(30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func getOK(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// handled returns how many events the target has handled so far.
func (in *instance) handled(ctx context.Context, client *http.Client) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.counter, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %d", in.counter, resp.StatusCode)
	}
	if in.target.isBare() {
		var c struct {
			Events *int64 `json:"events"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
			return 0, fmt.Errorf("GET %s: %w", in.counter, err)
		} else if c.Events == nil {
			return 0, fmt.Errorf("GET %s: no event count", in.counter)
		}
		return *c.Events, nil
	}
	return metricValue(resp.Body, processedMetric)
}

// metricValue finds an unlabelled counter in a Prometheus text exposition.
func metricValue(r io.Reader, name string) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil {
			return 0, fmt.Errorf("metric %s: %w", name, err)
		}
		return int64(v), nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("metric %s not exposed", name)
}

// stop ends the process (SIGTERM, then SIGKILL) and drops a PostgreSQL
// database.
func (in *instance) stop(ctx context.Context) error {
	err := in.proc.Stop(stopGrace)
	in.cleanupDB(ctx)
	return err
}

func (in *instance) cleanupDB(ctx context.Context) {
	if in.dropDB != nil {
		// Also after a Ctrl-C: the server is about to go anyway, but a
		// clean drop keeps its stop quick.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = in.dropDB(ctx)
		in.dropDB = nil
	}
}

// logSummary counts a target's JSON log lines by level and its warnings
// and errors by message.
type logSummary struct {
	Lines    int
	ByLevel  map[string]int
	Messages map[string]int // "level: message" of warn and above
	Other    int            // lines that are not JSON (panics, runtime errors)
}

// readLogSummary reads a zerolog JSON log.
func readLogSummary(path string) (logSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return logSummary{}, err
	}
	defer f.Close()
	s := logSummary{ByLevel: map[string]int{}, Messages: map[string]int{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		s.Lines++
		var line struct {
			Level   string `json:"level"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Level == "" {
			s.Other++
			continue
		}
		s.ByLevel[line.Level]++
		switch line.Level {
		case "warn", "error", "fatal", "panic":
			s.Messages[line.Level+": "+line.Message]++
		}
	}
	return s, sc.Err()
}

// topMessages returns the most frequent messages, most frequent first.
func (s logSummary) topMessages(n int) []string {
	keys := make([]string, 0, len(s.Messages))
	for k := range s.Messages {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if s.Messages[keys[i]] != s.Messages[keys[j]] {
			return s.Messages[keys[i]] > s.Messages[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys[:min(n, len(keys))]
}
