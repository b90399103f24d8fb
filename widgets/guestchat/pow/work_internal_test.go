package pow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLeadingZeroBits(t *testing.T) {
	tests := []struct {
		name  string
		start []byte // first bytes of the digest; the rest is 0xff
		want  int
	}{
		{name: "none", start: []byte{0x80}, want: 0},
		{name: "one", start: []byte{0x40}, want: 1},
		{name: "seven", start: []byte{0x01}, want: 7},
		{name: "eight", start: []byte{0x00, 0xff}, want: 8},
		{name: "seventeen", start: []byte{0x00, 0x00, 0x7a}, want: 17},
		{name: "low bits of the first byte do not count", start: []byte{0x0f, 0x00}, want: 4},
		{name: "all zero", start: make([]byte, sha256.Size), want: 256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sum [sha256.Size]byte
			for i := range sum {
				sum[i] = 0xff
			}
			copy(sum[:], tc.start)
			assert.Equal(t, tc.want, leadingZeroBits(&sum))
			assert.True(t, hasLeadingZeroBits(&sum, tc.want))
			if tc.want < 256 {
				assert.False(t, hasLeadingZeroBits(&sum, tc.want+1))
			}
		})
	}
}

// TestWorkTestVector pins the example in the package documentation, which
// the JavaScript client's tests reuse.
func TestWorkTestVector(t *testing.T) {
	const token = "rathaus-pow-test-vector"
	tests := []struct {
		difficulty int
		nonce      string
		digest     string
	}{
		{difficulty: 8, nonce: "84", digest: "00829dc9145cc4d19390b348eecb693e4bbdc6907a6e7dc9787e35aecac6f3de"},
		{difficulty: 16, nonce: "7431", digest: "00007a16086d596620094add9dc2de1ed547d619f0f9bfef7a5c7509168866e7"},
	}
	for _, tc := range tests {
		t.Run(tc.nonce, func(t *testing.T) {
			nonce, err := Solve(context.Background(), token, tc.difficulty)
			require.NoError(t, err)
			assert.Equal(t, tc.nonce, nonce)
			sum := sha256.Sum256([]byte(token + ":" + nonce))
			assert.Equal(t, tc.digest, hex.EncodeToString(sum[:]))
			assert.True(t, workDone(token, nonce, tc.difficulty))
		})
	}
}

func TestSolveDifficultyBounds(t *testing.T) {
	for _, d := range []int{-1, 0, MinDifficulty - 1, MaxDifficulty + 1} {
		_, err := Solve(context.Background(), "t", d)
		assert.ErrorIs(t, err, ErrInvalidDifficulty, "difficulty %d", d)
	}
	_, err := Solve(context.Background(), "t", MinDifficulty)
	assert.NoError(t, err)
}

func TestSolveStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Solve(ctx, "t", MaxDifficulty)
	assert.ErrorIs(t, err, context.Canceled)

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err = Solve(ctx, "t", MaxDifficulty) // ~10^9 hashes: cannot finish in time
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(begin), 2*time.Second, "Solve must notice the deadline promptly")
}

func TestValidNonce(t *testing.T) {
	for _, n := range []string{"0", "7", "007", "18446744073709551615", "99999999999999999999"} {
		assert.True(t, validNonce(n), "%q", n)
	}
	for _, n := range []string{"", "a", "-1", "1_000", "123456789012345678901", "１"} {
		assert.False(t, validNonce(n), "%q", n)
	}
}
