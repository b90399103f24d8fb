package appservice_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/store"
)

// BenchmarkDispatch measures how fast stored events go through the
// dispatcher (fetch, decode, no-op handler, mark done) on SQLite, with 10
// rooms.
func BenchmarkDispatch(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{Type: store.TypeSQLite, URI: b.TempDir() + "/bench.db", Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rec := newRecorder()
	d, err := appservice.NewDispatcher(appservice.DispatcherOptions{Inbox: s, Handler: rec, PollInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	var batch []store.InboxEvent
	for i := 0; i < b.N; i++ {
		room := id.RoomID(fmt.Sprintf("!r%d:hs", i%10))
		evt := id.EventID(fmt.Sprintf("$e%d", i))
		batch = append(batch, store.InboxEvent{EventID: evt, RoomID: room, Type: "m.room.message", Payload: []byte(messageJSON(room, evt, "x"))})
		if len(batch) == 100 || i == b.N-1 {
			if _, err = s.SaveTransaction(ctx, fmt.Sprintf("t%d", i), batch); err != nil {
				b.Fatal(err)
			}
			batch = nil
		}
	}
	b.ResetTimer()
	d.Start(ctx)
	waitFor(b, "every event dispatched", time.Minute, func() bool { return rec.total() >= b.N })
	b.StopTimer()
	d.Stop()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// declineAll is a Handler whose Selector declines every event, as the
// router does for chat in rooms rathaus does not manage.
type declineAll struct{ recorder }

func (*declineAll) Wants(id.RoomID, string, []byte) bool { return false }

// BenchmarkIngest pushes transactions of 100 events into 50 rooms through
// the real HTTP handler, one at a time (Synapse's shape), on SQLite, and
// waits until every event is done. It reports events/s from the first PUT
// to the last event done and the p99 time to the 200.
func BenchmarkIngest(b *testing.B) {
	for _, size := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("txn=%d", size), func(b *testing.B) { benchIngest(b, size) })
	}
}

func benchIngest(b *testing.B, size int) {
	b.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{Type: store.TypeSQLite, URI: b.TempDir() + "/bench.db", Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	metrics := appservice.NewMetrics(nil)
	d, err := appservice.NewDispatcher(appservice.DispatcherOptions{Inbox: s, Handler: &declineAll{}, Metrics: metrics})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := appservice.NewServer(appservice.ServerOptions{
		Log: zerolog.Nop(), HSToken: hsToken, Inbox: s, Dispatcher: d, Queries: fakeQueries{},
		IsOurUser: func(id.UserID) bool { return false }, IsOurAlias: func(id.RoomAlias) bool { return false },
		MaxTransactionBytes: 10 << 20, MaxPendingEvents: 1 << 30, Metrics: metrics,
	})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	d.Start(ctx)
	defer d.Stop()
	body := func(txn int) string {
		events := make([]string, size)
		for i := range events {
			room := id.RoomID(fmt.Sprintf("!room%02d:hs", (txn*size+i)%50))
			events[i] = messageJSON(room, id.EventID(fmt.Sprintf("$t%d-%d", txn, i)), "Guten Tag, ich habe eine Frage zu meinem Antrag.")
		}
		return txnJSON(events...)
	}
	total := b.N * size
	acks := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for txn := range b.N {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, fmt.Sprintf("%s/_matrix/app/v1/transactions/b%d", hs.URL, txn), strings.NewReader(body(txn)))
		req.Header.Set("Authorization", "Bearer "+hsToken)
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		acks = append(acks, time.Since(t0))
	}
	waitFor(b, "every event done", 5*time.Minute, func() bool { return counterValue(metrics.EventsProcessed) >= float64(total) })
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(acks)
	b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(acks[len(acks)*99/100].Microseconds())/1000, "ack-p99-ms")
	b.ReportMetric(float64(acks[len(acks)/2].Microseconds())/1000, "ack-p50-ms")
	st := s.InboxWriteStats()
	b.ReportMetric(float64(st.Writes)/float64(max(st.Commits, 1)), "writes/commit")
}
