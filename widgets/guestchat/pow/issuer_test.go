package pow_test

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/fakeclock"
	"github.com/rathaus-de/rathaus/widgets/guestchat/pow"
)

func TestNewIssuerOptions(t *testing.T) {
	spent := pow.NewMemorySpentStore(nil)
	valid := func() pow.IssuerOptions {
		return pow.IssuerOptions{Key: testKey(1), Spent: spent}
	}
	tests := []struct {
		name           string
		change         func(*pow.IssuerOptions)
		wantErr        []string // every fragment must appear in the error
		wantDifficulty int
	}{
		{name: "defaults", change: func(*pow.IssuerOptions) {}, wantDifficulty: pow.DefaultDifficulty},
		{name: "lowest difficulty", change: func(o *pow.IssuerOptions) { o.Difficulty = pow.MinDifficulty }, wantDifficulty: 8},
		{name: "highest difficulty", change: func(o *pow.IssuerOptions) { o.Difficulty = pow.MaxDifficulty }, wantDifficulty: 30},
		{name: "difficulty too low", change: func(o *pow.IssuerOptions) { o.Difficulty = 7 }, wantErr: []string{"difficulty"}},
		{name: "difficulty too high", change: func(o *pow.IssuerOptions) { o.Difficulty = 31 }, wantErr: []string{"difficulty"}},
		{name: "negative difficulty", change: func(o *pow.IssuerOptions) { o.Difficulty = -1 }, wantErr: []string{"difficulty"}},
		{name: "short key", change: func(o *pow.IssuerOptions) { o.Key = o.Key[:31] }, wantErr: []string{"key"}},
		{name: "no key", change: func(o *pow.IssuerOptions) { o.Key = nil }, wantErr: []string{"key"}},
		{name: "no spent store", change: func(o *pow.IssuerOptions) { o.Spent = nil }, wantErr: []string{"spent"}},
		{name: "ttl too short", change: func(o *pow.IssuerOptions) { o.TTL = time.Millisecond }, wantErr: []string{"ttl"}},
		{name: "ttl too long", change: func(o *pow.IssuerOptions) { o.TTL = 2 * time.Hour }, wantErr: []string{"ttl"}},
		{
			name:    "every problem reported",
			change:  func(o *pow.IssuerOptions) { *o = pow.IssuerOptions{Difficulty: 99, TTL: -time.Second} },
			wantErr: []string{"key", "difficulty", "ttl", "spent"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := valid()
			tc.change(&opts)
			iss, err := pow.NewIssuer(opts)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, pow.ErrInvalidOptions)
				for _, frag := range tc.wantErr {
					assert.Contains(t, err.Error(), frag)
				}
				assert.Nil(t, iss)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantDifficulty, iss.Difficulty())
		})
	}
}

func TestIssue(t *testing.T) {
	clock := fakeclock.New()
	iss := newTestIssuer(t, clock, pow.IssuerOptions{Difficulty: 12, TTL: 90 * time.Second})

	ch, err := iss.Issue(testPurpose)
	require.NoError(t, err)
	assert.Equal(t, testPurpose, ch.Purpose)
	assert.Equal(t, 12, ch.Difficulty)
	assert.True(t, ch.ExpiresAt.Equal(clock.Now().Add(90*time.Second)), "expires at %s", ch.ExpiresAt)
	raw, err := base64.RawURLEncoding.DecodeString(ch.ID)
	require.NoError(t, err)
	assert.Len(t, raw, 16, "id is 128 bits")
	assert.Regexp(t, `^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`, ch.Token)

	other, err := iss.Issue(testPurpose)
	require.NoError(t, err)
	assert.NotEqual(t, ch.ID, other.ID)
	assert.NotEqual(t, ch.Token, other.Token)

	for _, bad := range []string{"", "Guestchat", "a|b", "with space", "ümlaut", strings.Repeat("a", 65)} {
		_, err := iss.Issue(bad)
		assert.ErrorIs(t, err, pow.ErrInvalidPurpose, "purpose %q", bad)
	}
	_, err = iss.Issue(strings.Repeat("a", 64))
	assert.NoError(t, err, "64 characters are allowed")
}

func TestVerifyAcceptsSolvedChallenge(t *testing.T) {
	clock := fakeclock.New()
	iss := newTestIssuer(t, clock, pow.IssuerOptions{})
	ch, nonce := issueAndSolve(t, iss, testPurpose)
	require.NoError(t, iss.Verify(context.Background(), ch.Token, nonce, testPurpose))
}

// tamper decodes a token's payload, lets change edit its fields and
// re-encodes it with the original signature, as an attacker would.
func tamper(t *testing.T, token string, change func(fields []string)) string {
	t.Helper()
	body, sig, ok := strings.Cut(token, ".")
	require.True(t, ok)
	payload, err := base64.RawURLEncoding.DecodeString(body)
	require.NoError(t, err)
	fields := strings.Split(string(payload), "|")
	require.Len(t, fields, 5)
	change(fields)
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(fields, "|"))) + "." + sig
}

func TestVerifyRefuses(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New()
	iss := newTestIssuer(t, clock, pow.IssuerOptions{Difficulty: 10, TTL: time.Minute})

	tests := []struct {
		name string
		// attempt returns the token, nonce and purpose to verify, given a
		// freshly issued and solved challenge.
		attempt func(t *testing.T, ch pow.Challenge, nonce string) (string, string, string)
		want    error
	}{
		{
			name:    "empty token",
			attempt: func(*testing.T, pow.Challenge, string) (string, string, string) { return "", "0", testPurpose },
			want:    pow.ErrInvalidToken,
		},
		{
			name: "no signature",
			attempt: func(_ *testing.T, ch pow.Challenge, n string) (string, string, string) {
				body, _, _ := strings.Cut(ch.Token, ".")
				return body, n, testPurpose
			},
			want: pow.ErrInvalidToken,
		},
		{
			name: "extra dot",
			attempt: func(_ *testing.T, ch pow.Challenge, n string) (string, string, string) {
				return ch.Token + ".", n, testPurpose
			},
			want: pow.ErrInvalidToken,
		},
		{
			name: "overlong token",
			attempt: func(_ *testing.T, ch pow.Challenge, n string) (string, string, string) {
				return ch.Token + strings.Repeat("A", 600), n, testPurpose
			},
			want: pow.ErrInvalidToken,
		},
		{
			name: "signature flipped",
			attempt: func(_ *testing.T, ch pow.Challenge, n string) (string, string, string) {
				b := []byte(ch.Token)
				last := len(b) - 2 // not the final char, whose low bits base64 ignores
				if b[last] == 'A' {
					b[last] = 'B'
				} else {
					b[last] = 'A'
				}
				return string(b), n, testPurpose
			},
			want: pow.ErrInvalidToken,
		},
		{
			name: "tampered purpose",
			attempt: func(t *testing.T, ch pow.Challenge, n string) (string, string, string) {
				t.Helper()
				return tamper(t, ch.Token, func(f []string) { f[2] = "guestchat.send" }), n, "guestchat.send"
			},
			want: pow.ErrInvalidToken,
		},
		{
			name: "tampered difficulty",
			attempt: func(t *testing.T, ch pow.Challenge, _ string) (string, string, string) {
				t.Helper()
				token := tamper(t, ch.Token, func(f []string) { f[3] = "8" })
				n, err := pow.Solve(context.Background(), token, 8)
				require.NoError(t, err)
				return token, n, testPurpose
			},
			want: pow.ErrInvalidToken,
		},
		{
			name: "tampered expiry",
			attempt: func(t *testing.T, ch pow.Challenge, n string) (string, string, string) {
				t.Helper()
				return tamper(t, ch.Token, func(f []string) { f[4] = strconv.FormatInt(ch.ExpiresAt.Unix()+3600, 10) }), n, testPurpose
			},
			want: pow.ErrInvalidToken,
		},
		{
			name: "tampered id",
			attempt: func(t *testing.T, ch pow.Challenge, n string) (string, string, string) {
				t.Helper()
				return tamper(t, ch.Token, func(f []string) { f[1] = "AAAAAAAAAAAAAAAAAAAAAA" }), n, testPurpose
			},
			want: pow.ErrInvalidToken,
		},
		{
			name: "signed with another key",
			attempt: func(t *testing.T, _ pow.Challenge, _ string) (string, string, string) {
				t.Helper()
				other := newTestIssuer(t, clock, pow.IssuerOptions{Key: testKey(0x43), Difficulty: 10})
				ch, n := issueAndSolve(t, other, testPurpose)
				return ch.Token, n, testPurpose
			},
			want: pow.ErrInvalidToken,
		},
		{
			name: "other purpose",
			attempt: func(_ *testing.T, ch pow.Challenge, n string) (string, string, string) {
				return ch.Token, n, "guestchat.send"
			},
			want: pow.ErrWrongPurpose,
		},
		{
			name: "wrong nonce",
			attempt: func(t *testing.T, ch pow.Challenge, _ string) (string, string, string) {
				t.Helper()
				return ch.Token, failingNonce(t, ch), testPurpose
			},
			want: pow.ErrInsufficientWork,
		},
		{
			name: "nonce of another challenge",
			attempt: func(t *testing.T, ch pow.Challenge, _ string) (string, string, string) {
				t.Helper()
				// A foreign nonce solves this challenge with probability
				// 2^-difficulty; take the first one that does not.
				for {
					_, n := issueAndSolve(t, iss, testPurpose)
					if !solves(ch.Token, n, ch.Difficulty) {
						return ch.Token, n, testPurpose
					}
				}
			},
			want: pow.ErrInsufficientWork,
		},
		{
			name: "difficulty below the issuer's",
			attempt: func(t *testing.T, _ pow.Challenge, _ string) (string, string, string) {
				t.Helper()
				// Same key, lower difficulty: what an issuer handed out
				// before the operator raised the difficulty.
				easier := newTestIssuer(t, clock, pow.IssuerOptions{Difficulty: 9})
				ch, n := issueAndSolve(t, easier, testPurpose)
				return ch.Token, n, testPurpose
			},
			want: pow.ErrInsufficientWork,
		},
	}
	for _, bad := range []string{"", "abc", "-1", "+1", " 1", "1 ", "1.0", "1e3", "٣", strings.Repeat("1", 21)} {
		tests = append(tests, struct {
			name    string
			attempt func(t *testing.T, ch pow.Challenge, nonce string) (string, string, string)
			want    error
		}{
			name: "malformed nonce " + strconv.Quote(bad),
			attempt: func(_ *testing.T, ch pow.Challenge, _ string) (string, string, string) {
				return ch.Token, bad, testPurpose
			},
			want: pow.ErrInsufficientWork,
		})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, nonce := issueAndSolve(t, iss, testPurpose)
			token, n, purpose := tc.attempt(t, ch, nonce)
			err := iss.Verify(ctx, token, n, purpose)
			assert.ErrorIs(t, err, tc.want)
			// The refusal must not have spent the challenge: the honest
			// solution still works.
			assert.NoError(t, iss.Verify(ctx, ch.Token, nonce, testPurpose))
		})
	}
}

// failingNonce returns the smallest nonce that does not solve ch.
func failingNonce(t *testing.T, ch pow.Challenge) string {
	t.Helper()
	for n := 0; ; n++ {
		if nonce := strconv.Itoa(n); !solves(ch.Token, nonce, ch.Difficulty) {
			return nonce
		}
	}
}

func TestVerifyExpiry(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		advance time.Duration
		want    error
	}{
		{name: "fresh", advance: 0},
		{name: "one second before expiry", advance: 59 * time.Second},
		{name: "at expiry", advance: time.Minute, want: pow.ErrExpired},
		{name: "long after", advance: time.Hour, want: pow.ErrExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.New()
			iss := newTestIssuer(t, clock, pow.IssuerOptions{TTL: time.Minute})
			ch, nonce := issueAndSolve(t, iss, testPurpose)
			clock.Advance(tc.advance)
			err := iss.Verify(ctx, ch.Token, nonce, testPurpose)
			if tc.want == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	ctx := context.Background()
	iss := newTestIssuer(t, fakeclock.New(), pow.IssuerOptions{})
	ch, nonce := issueAndSolve(t, iss, testPurpose)
	require.NoError(t, iss.Verify(ctx, ch.Token, nonce, testPurpose))
	assert.ErrorIs(t, iss.Verify(ctx, ch.Token, nonce, testPurpose), pow.ErrReplayed)

	// A second valid nonce for the same challenge is a replay too.
	other := secondNonce(t, ch)
	assert.ErrorIs(t, iss.Verify(ctx, ch.Token, other, testPurpose), pow.ErrReplayed)
}

// secondNonce returns the smallest working nonce above the one Solve
// finds.
func secondNonce(t *testing.T, ch pow.Challenge) string {
	t.Helper()
	first, err := pow.Solve(context.Background(), ch.Token, ch.Difficulty)
	require.NoError(t, err)
	f, err := strconv.Atoi(first)
	require.NoError(t, err)
	for n := f + 1; ; n++ {
		if nonce := strconv.Itoa(n); solves(ch.Token, nonce, ch.Difficulty) {
			return nonce
		}
	}
}

func TestVerifyConcurrentDoubleSpend(t *testing.T) {
	const racers = 20
	ctx := context.Background()
	iss := newTestIssuer(t, fakeclock.New(), pow.IssuerOptions{})
	ch, nonce := issueAndSolve(t, iss, testPurpose)

	start := make(chan struct{})
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for r := range racers {
		wg.Go(func() {
			<-start
			errs[r] = iss.Verify(ctx, ch.Token, nonce, testPurpose)
		})
	}
	close(start)
	wg.Wait()

	succeeded := 0
	for _, err := range errs {
		if err == nil {
			succeeded++
		} else {
			assert.ErrorIs(t, err, pow.ErrReplayed)
		}
	}
	assert.Equal(t, 1, succeeded, "exactly one racer redeems the challenge")
}

type failingStore struct{ err error }

func (s failingStore) MarkSpent(context.Context, string, time.Time) (bool, error) {
	return false, s.err
}

func TestVerifyStoreError(t *testing.T) {
	storeErr := assert.AnError
	iss := newTestIssuer(t, fakeclock.New(), pow.IssuerOptions{Spent: failingStore{err: storeErr}})
	ch, nonce := issueAndSolve(t, iss, testPurpose)
	err := iss.Verify(context.Background(), ch.Token, nonce, testPurpose)
	assert.ErrorIs(t, err, storeErr)
	assert.NotErrorIs(t, err, pow.ErrReplayed)
}

// countingStore counts MarkSpent calls, to show that refused attempts never
// reach the store.
type countingStore struct {
	mu    sync.Mutex
	calls int
	inner pow.SpentStore
}

func (s *countingStore) MarkSpent(ctx context.Context, id string, exp time.Time) (bool, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	return s.inner.MarkSpent(ctx, id, exp)
}

func TestVerifyWritesStoreOnlyForValidWork(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New()
	store := &countingStore{inner: pow.NewMemorySpentStore(clock.Now)}
	iss := newTestIssuer(t, clock, pow.IssuerOptions{Spent: store})
	ch, nonce := issueAndSolve(t, iss, testPurpose)

	assert.ErrorIs(t, iss.Verify(ctx, "garbage", nonce, testPurpose), pow.ErrInvalidToken)
	assert.ErrorIs(t, iss.Verify(ctx, ch.Token, nonce, "other"), pow.ErrWrongPurpose)
	assert.ErrorIs(t, iss.Verify(ctx, ch.Token, "x", testPurpose), pow.ErrInsufficientWork)
	assert.Equal(t, 0, store.calls)

	require.NoError(t, iss.Verify(ctx, ch.Token, nonce, testPurpose))
	assert.Equal(t, 1, store.calls)
}
