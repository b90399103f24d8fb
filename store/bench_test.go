package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rathaus-de/rathaus/store"
)

// BenchmarkSaveTransaction measures the commit-before-acknowledge path: one
// homeserver transaction of 1, 10 or 100 events (~400 bytes each), durably
// stored, one at a time.
func BenchmarkSaveTransaction(b *testing.B) {
	for _, size := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("txn=%d", size), func(b *testing.B) { benchSaveTransaction(b, size) })
	}
}

func benchSaveTransaction(b *testing.B, size int) {
	b.Helper()
	for _, tc := range []struct {
		name string
		open func(b *testing.B) *store.Store
	}{
		{"sqlite", func(b *testing.B) *store.Store {
			b.Helper()
			return openBenchStore(b, store.TypeSQLite, b.TempDir()+"/bench.db")
		}},
		{"postgres", func(b *testing.B) *store.Store {
			b.Helper()
			return openBenchStore(b, store.TypePostgres, testpgNew(b))
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.open(b)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				events := make([]store.InboxEvent, size)
				for j := range events {
					events[j] = ev(fmt.Sprintf("!r%d:hs", j%50), fmt.Sprintf("$e%d-%d", i, j))
					events[j].Payload = append(events[j].Payload[:len(events[j].Payload)-1], `,"content":{"msgtype":"m.text","body":"Guten Tag, ich habe eine Frage zu meinem Bauantrag vom letzten Monat."},"sender":"@someone:example.org","origin_server_ts":1764320000000}`...)
				}
				if _, err := s.SaveTransaction(ctx, fmt.Sprintf("t%d", i), events); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
