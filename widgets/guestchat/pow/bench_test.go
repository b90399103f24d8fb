package pow_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/fakeclock"
	"github.com/rathaus-de/rathaus/widgets/guestchat/pow"
)

// BenchmarkSolve measures the reference solver at the default difficulty
// on fresh challenges. The time varies a lot per challenge (the number of
// hashes is geometrically distributed, 2^18 on average); run with
// -benchtime=100x or more for a stable mean. A browser using
// crypto.subtle is several times slower than this native loop.
func BenchmarkSolve(b *testing.B) {
	ctx := context.Background()
	clock := fakeclock.New()
	iss := newTestIssuer(b, clock, pow.IssuerOptions{Difficulty: pow.DefaultDifficulty})
	var hashes float64
	begin := time.Now()
	for b.Loop() {
		ch, err := iss.Issue(testPurpose)
		require.NoError(b, err)
		nonce, err := pow.Solve(ctx, ch.Token, ch.Difficulty)
		require.NoError(b, err)
		n, err := strconv.ParseUint(nonce, 10, 64)
		require.NoError(b, err)
		hashes += float64(n + 1)
	}
	elapsed := time.Since(begin)
	b.ReportMetric(elapsed.Seconds()*1000/float64(b.N), "ms/op")
	b.ReportMetric(hashes/float64(b.N), "hashes/op")
	b.ReportMetric(hashes/elapsed.Seconds()/1e6, "Mhash/s")
}
