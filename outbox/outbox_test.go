package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/testpg"
	"github.com/rathaus-de/rathaus/outbox"
	"github.com/rathaus-de/rathaus/outbox/webhook"
	"github.com/rathaus-de/rathaus/store"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(crashChild())
	}
	os.Exit(testpg.Main(m))
}

func openStore(t *testing.T, typ, uri string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{Type: typ, URI: uri, Log: zerolog.Nop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// eachDialect runs fn on a fresh SQLite file and on a fresh PostgreSQL
// database.
func eachDialect(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, openStore(t, store.TypeSQLite, filepath.Join(t.TempDir(), "rathaus.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, openStore(t, store.TypePostgres, testpg.New(t))) })
}

func startWorker(t *testing.T, s *store.Store, handlers map[string]outbox.Handler, mod func(*outbox.Options)) *outbox.Worker {
	t.Helper()
	opts := outbox.Options{Store: s, Handlers: handlers, Log: zerolog.Nop(), Poll: 20 * time.Millisecond,
		Backoff: func(int) time.Duration { return 20 * time.Millisecond }}
	if mod != nil {
		mod(&opts)
	}
	w, err := outbox.New(opts)
	require.NoError(t, err)
	w.Start(context.Background())
	t.Cleanup(w.Stop)
	return w
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func jobState(t *testing.T, s *store.Store, delivery string) (state string, attempts int) {
	t.Helper()
	require.NoError(t, s.DB.QueryRow(context.Background(),
		`SELECT state, attempts FROM outbox_job WHERE delivery_id = $1`, delivery).Scan(&state, &attempts))
	return state, attempts
}

// TestWorkerRetriesParksAndRequeues: a failing job is retried until it
// works; one that keeps failing is parked after MaxAttempts, a permanent
// failure at once; an operator requeues a parked job and it runs again
// with the same delivery id. Enqueuing one cause twice makes one job.
func TestWorkerRetriesParksAndRequeues(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var mu sync.Mutex
		runs := map[string]int{}
		var healed atomic.Bool
		h := outbox.HandlerFunc(func(_ context.Context, j store.Job) error {
			mu.Lock()
			runs[j.DeliveryID]++
			n := runs[j.DeliveryID]
			mu.Unlock()
			switch j.DeliveryID {
			case "flaky":
				if n < 3 {
					return errors.New("receiver down")
				}
			case "broken":
				if !healed.Load() {
					return errors.New("receiver down")
				}
			case "refused":
				return fmt.Errorf("%w: 400", outbox.ErrPermanent)
			}
			return nil
		})
		reg := prometheus.NewRegistry()
		w := startWorker(t, s, map[string]outbox.Handler{"test": h}, func(o *outbox.Options) {
			o.MaxAttempts = 4
			o.Registerer = reg
		})
		for _, id := range []string{"ok", "flaky", "broken", "refused"} {
			stored, err := s.EnqueueJob(ctx, "test", id, []byte(`{}`))
			require.NoError(t, err)
			require.True(t, stored)
		}
		stored, err := s.EnqueueJob(ctx, "test", "ok", []byte(`{}`))
		require.NoError(t, err)
		assert.False(t, stored, "the same cause, the same delivery id: one job")
		_, err = s.EnqueueJob(ctx, "unknown-kind", "orphan", []byte(`{}`))
		require.NoError(t, err)
		w.Wake()

		waitFor(t, "every job done or parked", func() bool {
			st, err := s.JobStats(ctx)
			return err == nil && st.Pending == 0
		})
		for id, want := range map[string][2]any{"ok": {"done", 1}, "flaky": {"done", 3}, "broken": {"parked", 4}, "refused": {"parked", 1}, "orphan": {"parked", 1}} {
			state, attempts := jobState(t, s, id)
			assert.Equal(t, want[0], state, id)
			assert.Equal(t, want[1], attempts, id)
		}
		parked, err := s.ParkedJobs(ctx, 10)
		require.NoError(t, err)
		require.Len(t, parked, 3)
		assert.Equal(t, "broken", parked[0].DeliveryID)
		assert.Contains(t, parked[0].LastError, "receiver down")
		assert.Contains(t, parked[2].LastError, `no handler for jobs of kind "unknown-kind"`)
		waitFor(t, "the gauges", func() bool { return gaugeValue(reg, "rathaus_outbox_jobs_parked") == 3 })
		assert.Zero(t, gaugeValue(reg, "rathaus_outbox_jobs_pending"))

		healed.Store(true)
		n, err := s.RequeueJobs(ctx, []int64{parked[0].ID})
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		w.Wake()
		waitFor(t, "the requeued job", func() bool { state, _ := jobState(t, s, "broken"); return state == "done" })
		state, attempts := jobState(t, s, "broken")
		assert.Equal(t, "done", state)
		assert.Equal(t, 1, attempts, "a requeued job starts afresh")
	})
}

// gaugeValue reads a gauge of a registry; -1 if it is missing.
func gaugeValue(reg *prometheus.Registry, name string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

var secret = []byte("0123456789abcdef0123456789abcdef-outbox")

type targets map[string]string

func (t targets) WebhookTarget(name string) (string, []byte, bool) {
	u, ok := t[name]
	return u, secret, ok
}

// receiver verifies every webhook and counts deliveries by id.
type receiver struct {
	mu        sync.Mutex
	delivered map[string]int // 2xx answered, by delivery id
	seen      []string       // the delivery id of every valid request, answered or not
	fail      int            // answer 503 to this many valid webhooks first
	hold      chan struct{}  // if set, the first request waits on it
	arrived   chan struct{}
}

func newReceiver() *receiver {
	return &receiver{delivered: map[string]int{}, arrived: make(chan struct{}, 100)}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, err := webhook.Verify(secret, r.Header, body, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.mu.Lock()
	rc.seen = append(rc.seen, id)
	rc.mu.Unlock()
	rc.arrived <- struct{}{}
	rc.mu.Lock()
	hold := rc.hold
	rc.hold = nil
	if rc.fail > 0 {
		rc.fail--
		rc.mu.Unlock()
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	rc.mu.Unlock()
	if hold != nil {
		<-hold
	}
	rc.mu.Lock()
	rc.delivered[id]++
	rc.mu.Unlock()
}

func (rc *receiver) deliveries() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for k, v := range rc.delivered {
		out[k] = v
	}
	return out
}

// TestWebhookRetriedThenDeliveredOnce (issue 13, acceptance 4): the
// receiver verifies signature and timestamp; while it fails, the webhook
// is retried, then delivered once under its delivery id.
func TestWebhookRetriedThenDeliveredOnce(t *testing.T) {
	rc := newReceiver()
	rc.fail = 3
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := openStore(t, store.TypeSQLite, filepath.Join(t.TempDir(), "rathaus.db"))
	w := startWorker(t, s, map[string]outbox.Handler{outbox.KindWebhook: outbox.WebhookHandler{
		Client: webhook.NewClient(5*time.Second, true), Targets: targets{"bauportal": srv.URL}}}, nil)
	ctx := context.Background()
	_, err := outbox.EnqueueWebhook(ctx, s, "bauportal", "case-1/claimed", map[string]any{"event": "case.claimed"})
	require.NoError(t, err)
	_, err = outbox.EnqueueWebhook(ctx, s, "gone", "case-2/claimed", map[string]any{"event": "case.claimed"})
	require.NoError(t, err)
	w.Wake()
	// The receiver counts before its answer reaches the worker: wait for
	// the job's record.
	waitFor(t, "the delivery", func() bool { state, _ := jobState(t, s, "case-1/claimed"); return state == "done" })
	state, attempts := jobState(t, s, "case-1/claimed")
	assert.Equal(t, "done", state)
	assert.Equal(t, 4, attempts, "three 503s, then delivered")
	waitFor(t, "the job without a target to be parked", func() bool { state, _ := jobState(t, s, "case-2/claimed"); return state == "parked" })
	assert.Equal(t, map[string]int{"case-1/claimed": 1}, rc.deliveries())
}

const childEnv = "RATHAUS_OUTBOX_CRASH_CHILD"

// crashChild is the process TestKill9DuringDelivery kills: a worker on the
// database and receiver named in its environment.
func crashChild() int {
	s, err := store.Open(context.Background(), store.Options{Type: store.TypeSQLite, URI: os.Getenv(childEnv), Log: zerolog.Nop()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	w, err := outbox.New(outbox.Options{Store: s, Log: zerolog.Nop(), Poll: 20 * time.Millisecond,
		Handlers: map[string]outbox.Handler{outbox.KindWebhook: outbox.WebhookHandler{
			Client: webhook.NewClient(time.Minute, true), Targets: targets{"bauportal": os.Getenv(childEnv + "_URL")}}}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	w.Start(context.Background())
	select {} // until killed
}

// TestKill9DuringDelivery (issue 13, acceptance 4): a process is killed
// with SIGKILL while its webhook is in flight. Nothing is lost: the next
// worker delivers the job, under the same delivery id, and no other id
// ever reaches the receiver.
func TestKill9DuringDelivery(t *testing.T) {
	rc := newReceiver()
	hold := make(chan struct{})
	rc.hold = hold
	srv := httptest.NewServer(rc)
	defer srv.Close()
	defer close(hold)
	dbPath := filepath.Join(t.TempDir(), "rathaus.db")
	s := openStore(t, store.TypeSQLite, dbPath)
	ctx := context.Background()
	_, err := outbox.EnqueueWebhook(ctx, s, "bauportal", "case-9/resolved", map[string]any{"event": "case.resolved"})
	require.NoError(t, err)

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dbPath, childEnv+"_URL="+srv.URL)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	select {
	case <-rc.arrived:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the child never sent the webhook")
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	state, attempts := jobState(t, s, "case-9/resolved")
	require.Equal(t, "pending", state, "killed mid-delivery: the job is still there")
	require.Equal(t, 1, attempts, "the attempt was counted before it ran")

	w := startWorker(t, s, map[string]outbox.Handler{outbox.KindWebhook: outbox.WebhookHandler{
		Client: webhook.NewClient(5*time.Second, true), Targets: targets{"bauportal": srv.URL}}}, nil)
	w.Wake()
	waitFor(t, "the delivery after the restart", func() bool { state, _ := jobState(t, s, "case-9/resolved"); return state == "done" })
	state, attempts = jobState(t, s, "case-9/resolved")
	assert.Equal(t, "done", state)
	assert.Equal(t, 2, attempts)
	assert.Equal(t, map[string]int{"case-9/resolved": 1}, rc.deliveries(), "one delivery id, delivered once after the kill")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	assert.Equal(t, []string{"case-9/resolved", "case-9/resolved"}, rc.seen,
		"the attempt cut short by the kill and the one after the restart carried the same delivery id, and no other id came")
}
