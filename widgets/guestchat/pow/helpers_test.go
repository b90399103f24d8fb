package pow_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/widgets/guestchat/pow"
)

const testPurpose = "guestchat.open"

// fakeClock is a settable clock shared by an Issuer and its store.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, pow.MinKeyLength) }

// newTestIssuer returns an issuer at the lowest difficulty (fast to solve)
// on a fake clock, unless opts says otherwise.
func newTestIssuer(t testing.TB, clock *fakeClock, opts pow.IssuerOptions) *pow.Issuer {
	t.Helper()
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
	require.NoError(t, err)
	return iss
}

// issueAndSolve issues a challenge for purpose and solves it.
func issueAndSolve(t testing.TB, iss *pow.Issuer, purpose string) (pow.Challenge, string) {
	t.Helper()
	ch, err := iss.Issue(purpose)
	require.NoError(t, err)
	nonce, err := pow.Solve(context.Background(), ch.Token, ch.Difficulty)
	require.NoError(t, err)
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
