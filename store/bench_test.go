package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rathaus-de/rathaus/store"
)

// BenchmarkSaveTransaction measures the commit-before-acknowledge path: one
// homeserver transaction of 10 events, durably stored.
func BenchmarkSaveTransaction(b *testing.B) {
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
				events := make([]store.InboxEvent, 10)
				for j := range events {
					events[j] = ev(fmt.Sprintf("!r%d:hs", j%3), fmt.Sprintf("$e%d-%d", i, j))
				}
				if _, err := s.SaveTransaction(ctx, fmt.Sprintf("t%d", i), events); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
