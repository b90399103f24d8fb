package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/store"
)

// TestPostgresPoolIsBounded puts the inbox under a steady load on a real
// PostgreSQL (eight writers storing transactions, eight room workers
// dispatching batches, as rathaus does) and watches pg_stat_activity: the
// store never holds more connections than its bound and opens no new ones
// once the load runs.
func TestPostgresPoolIsBounded(t *testing.T) {
	uri := testpgNew(t)
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{Type: store.TypePostgres, URI: uri, Log: zerolog.Nop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	probe, err := sql.Open("postgres", uri)
	require.NoError(t, err)
	t.Cleanup(func() { _ = probe.Close() })
	probe.SetMaxOpenConns(1)
	type backend struct {
		pid   int
		start time.Time
	}
	var mu sync.Mutex
	seen := map[backend]time.Time{} // backend → when first seen
	sample := func() {
		rows, err := probe.QueryContext(ctx, `SELECT pid, backend_start FROM pg_stat_activity
			WHERE application_name = 'rathaus' AND datname = current_database()`)
		if !assert.NoError(t, err) {
			return
		}
		defer rows.Close()
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for rows.Next() {
			var b backend
			if assert.NoError(t, rows.Scan(&b.pid, &b.start)) {
				if _, ok := seen[b]; !ok {
					seen[b] = now
				}
			}
		}
	}

	loadCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var stored, done atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() { // a homeserver pushing transactions of ten events
			defer wg.Done()
			for i := 0; loadCtx.Err() == nil; i++ {
				var events []store.InboxEvent
				for j := range 10 {
					events = append(events, ev(fmt.Sprintf("!r%d:x", (i+j)%50), fmt.Sprintf("$w%d-%d-%d", w, i, j)))
				}
				res, err := s.SaveTransaction(ctx, fmt.Sprintf("w%d-%d", w, i), events)
				if !assert.NoError(t, err) {
					return
				}
				stored.Add(int64(res.Stored))
			}
		}()
		wg.Add(1)
		go func() { // a dispatcher worker
			defer wg.Done()
			for i := 0; loadCtx.Err() == nil; i++ {
				room := id.RoomID(fmt.Sprintf("!r%d:x", (i*8+w)%50))
				batch, err := s.NextBatch(ctx, room, time.Now(), 100)
				if !assert.NoError(t, err) || len(batch) == 0 {
					continue
				}
				all := store.SeqRange{From: batch[0].Seq, To: batch[len(batch)-1].Seq}
				// Two workers may pick the same room here (the dispatcher
				// never does); counting and marking are idempotent enough
				// for a load.
				_ = s.StartBatch(ctx, room, all)
				n, err := s.FinishBatch(ctx, store.BatchOutcome{RoomID: room, Done: all})
				assert.NoError(t, err)
				done.Add(int64(n))
			}
		}()
	}
	warm := time.Now().Add(500 * time.Millisecond)
	end := time.Now().Add(3 * time.Second)
	for time.Now().Before(end) {
		sample()
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	lateStarts := 0
	for _, first := range seen {
		if first.After(warm) {
			lateStarts++
		}
	}
	t.Logf("%d events stored and %d dispatched in 3 s over %d connections", stored.Load(), done.Load(), len(seen))
	assert.Positive(t, done.Load(), "the load ran")
	assert.LessOrEqual(t, len(seen), store.DefaultMaxOpenConns, "never more connections than the pool's bound")
	assert.Zero(t, lateStarts, "no new connection once the load runs")
}
