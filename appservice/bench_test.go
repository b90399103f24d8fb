package appservice_test

import (
	"context"
	"fmt"
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
