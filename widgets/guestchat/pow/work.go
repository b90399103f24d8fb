package pow

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/bits"
	"strconv"
)

// maxNonceLength is the number of decimal digits of the largest uint64.
const maxNonceLength = 20

// ctxCheckInterval is how many hashes Solve computes between looks at its
// context: often enough to stop within a millisecond, rarely enough to cost
// nothing.
const ctxCheckInterval = 1 << 12

// validNonce reports whether nonce is 1–20 ASCII digits.
func validNonce(nonce string) bool {
	if nonce == "" || len(nonce) > maxNonceLength {
		return false
	}
	for i := 0; i < len(nonce); i++ {
		if nonce[i] < '0' || nonce[i] > '9' {
			return false
		}
	}
	return true
}

// workDone reports whether SHA-256(token + ":" + nonce) has at least
// difficulty leading zero bits.
func workDone(token, nonce string, difficulty int) bool {
	buf := make([]byte, 0, len(token)+1+len(nonce))
	buf = append(buf, token...)
	buf = append(buf, ':')
	buf = append(buf, nonce...)
	sum := sha256.Sum256(buf)
	return hasLeadingZeroBits(&sum, difficulty)
}

// hasLeadingZeroBits reports whether sum starts with at least n zero bits,
// counting from the most significant bit of sum[0].
func hasLeadingZeroBits(sum *[sha256.Size]byte, n int) bool {
	return leadingZeroBits(sum) >= n
}

// leadingZeroBits counts the zero bits before the first one bit of sum.
func leadingZeroBits(sum *[sha256.Size]byte) int {
	n := 0
	for _, b := range sum {
		if b != 0 {
			return n + bits.LeadingZeros8(b)
		}
		n += 8
	}
	return n
}

// Solve finds the smallest nonce for token at difficulty, exactly as the
// browser client does (see the package documentation). It is the reference
// implementation for tests and benchmarks. It returns ctx.Err() if ctx ends
// first and ErrInvalidDifficulty for a difficulty outside
// MinDifficulty..MaxDifficulty.
func Solve(ctx context.Context, token string, difficulty int) (string, error) {
	if difficulty < MinDifficulty || difficulty > MaxDifficulty {
		return "", fmt.Errorf("%w: %d", ErrInvalidDifficulty, difficulty)
	}
	prefix := len(token) + 1
	buf := make([]byte, prefix, prefix+maxNonceLength)
	copy(buf, token)
	buf[len(token)] = ':'
	for nonce := uint64(0); ; nonce++ {
		if nonce%ctxCheckInterval == 0 {
			if err := ctx.Err(); err != nil {
				return "", err
			}
		}
		buf = strconv.AppendUint(buf[:prefix], nonce, 10)
		sum := sha256.Sum256(buf)
		if hasLeadingZeroBits(&sum, difficulty) {
			return string(buf[prefix:]), nil
		}
	}
}
