package pow_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/fakeclock"
	"github.com/rathaus-de/rathaus/widgets/guestchat/pow"
)

const testPurpose = "guestchat.open"

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, pow.MinKeyLength) }

// newTestIssuer returns an issuer at the lowest difficulty (fast to solve)
// on a fake clock, unless opts says otherwise.
func newTestIssuer(tb testing.TB, clock *fakeclock.Clock, opts pow.IssuerOptions) *pow.Issuer {
	tb.Helper()
	if opts.Key == nil {
		opts.Key = testKey(0x42)
	}
	if opts.Difficulty == 0 {
		opts.Difficulty = pow.MinDifficulty
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.Spent == nil {
		opts.Spent = pow.NewMemorySpentStore(clock.Now)
	}
	iss, err := pow.NewIssuer(opts)
	require.NoError(tb, err)
	return iss
}

// issueAndSolve issues a challenge for purpose and solves it.
func issueAndSolve(tb testing.TB, iss *pow.Issuer, purpose string) (pow.Challenge, string) {
	tb.Helper()
	ch, err := iss.Issue(purpose)
	require.NoError(tb, err)
	nonce, err := pow.Solve(context.Background(), ch.Token, ch.Difficulty)
	require.NoError(tb, err)
	return ch, nonce
}

// solves checks nonce against the algorithm in the package documentation,
// written independently of the package's own code (bit by bit, as a
// careful client would).
func solves(token, nonce string, difficulty int) bool {
	sum := sha256.Sum256([]byte(token + ":" + nonce))
	for bit := range difficulty {
		if sum[bit/8]&(0x80>>(bit%8)) != 0 {
			return false
		}
	}
	return true
}
