package pow

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Limits and defaults for IssuerOptions.
const (
	// MinKeyLength is the shortest accepted HMAC key, in bytes.
	MinKeyLength = 32
	// MinDifficulty and MaxDifficulty bound the difficulty in leading zero
	// bits. Below 8 the work is meaningless; at 30 a browser needs minutes.
	MinDifficulty = 8
	MaxDifficulty = 30
	// DefaultDifficulty means 2^18 ≈ 262,000 hashes on average. Measured
	// on the 2-core development machine: ~50 ms for the native Solve, ~4 s
	// for a crypto.subtle loop (Node 20, batches of 1,000); the slowest
	// few percent of challenges take about three times the mean.
	DefaultDifficulty = 18
	// DefaultTTL is how long a challenge may be solved and redeemed.
	DefaultTTL = 5 * time.Minute
	// MinTTL is the shortest accepted TTL; expiry has one-second precision.
	MinTTL = time.Second
	// MaxTTL is the longest accepted TTL. Long-lived challenges let an
	// attacker stockpile solutions.
	MaxTTL = time.Hour
)

// IssuerOptions configures NewIssuer.
type IssuerOptions struct {
	// Key signs the tokens; at least MinKeyLength random bytes, used for
	// nothing else. Required. Rotating it invalidates outstanding
	// challenges, which clients simply fetch again.
	Key []byte
	// Difficulty is the number of leading zero bits of SHA-256 the client
	// must find, MinDifficulty..MaxDifficulty. Zero means DefaultDifficulty.
	Difficulty int
	// TTL is the lifetime of a challenge, MinTTL..MaxTTL. Zero means
	// DefaultTTL.
	TTL time.Duration
	// Now returns the current time. Nil means time.Now; tests pass a fake
	// clock.
	Now func() time.Time
	// Spent remembers redeemed challenges. Required.
	Spent SpentStore
}

// Issuer issues and verifies proof-of-work challenges. It is safe for
// concurrent use if its SpentStore is.
type Issuer struct {
	key        []byte
	difficulty int
	ttl        time.Duration
	now        func() time.Time
	spent      SpentStore
}

// Challenge is what the client receives. Only Token and Difficulty are
// needed to solve it; the other fields are informational.
type Challenge struct {
	// ID identifies the challenge (128 random bits, base64url). It is also
	// inside the token.
	ID string
	// Purpose is the action the challenge unlocks, e.g. "guestchat.open".
	Purpose string
	// Difficulty is the number of leading zero bits to find.
	Difficulty int
	// ExpiresAt is when Verify stops accepting the challenge (whole
	// seconds).
	ExpiresAt time.Time
	// Token is the opaque string the client hashes and echoes back.
	Token string
}

// NewIssuer checks opts, fills in defaults and returns an Issuer. It reports
// every problem at once, wrapped in ErrInvalidOptions.
func NewIssuer(opts IssuerOptions) (*Issuer, error) {
	if opts.Difficulty == 0 {
		opts.Difficulty = DefaultDifficulty
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var problems []error
	if len(opts.Key) < MinKeyLength {
		problems = append(problems, fmt.Errorf("key: want at least %d bytes, got %d", MinKeyLength, len(opts.Key)))
	}
	if opts.Difficulty < MinDifficulty || opts.Difficulty > MaxDifficulty {
		problems = append(problems, fmt.Errorf("difficulty: want %d..%d bits, got %d", MinDifficulty, MaxDifficulty, opts.Difficulty))
	}
	if opts.TTL < MinTTL || opts.TTL > MaxTTL {
		problems = append(problems, fmt.Errorf("ttl: want %s..%s, got %s", MinTTL, MaxTTL, opts.TTL))
	}
	if opts.Spent == nil {
		problems = append(problems, errors.New("spent: a SpentStore is required"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(problems...))
	}
	return &Issuer{
		key:        append([]byte(nil), opts.Key...),
		difficulty: opts.Difficulty,
		ttl:        opts.TTL,
		now:        opts.Now,
		spent:      opts.Spent,
	}, nil
}

// Difficulty returns the difficulty new challenges get and Verify demands.
func (i *Issuer) Difficulty() int { return i.difficulty }

// Issue creates a fresh challenge for purpose, which must be 1–64
// characters of a-z, 0-9, '.', '_' and '-' (a constant in the caller's
// code, never user input).
func (i *Issuer) Issue(purpose string) (Challenge, error) {
	if !validPurpose(purpose) {
		return Challenge{}, fmt.Errorf("%w: %q", ErrInvalidPurpose, purpose)
	}
	var raw [idBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Challenge{}, fmt.Errorf("failed to generate challenge id: %w", err)
	}
	// Expiry is carried in whole seconds; truncate so ExpiresAt matches
	// what Verify will read from the token.
	expiresAt := i.now().Add(i.ttl).Truncate(time.Second)
	c := tokenClaims{
		id:         base64.RawURLEncoding.EncodeToString(raw[:]),
		purpose:    purpose,
		difficulty: i.difficulty,
		expiresAt:  expiresAt.Unix(),
	}
	return Challenge{
		ID:         c.id,
		Purpose:    purpose,
		Difficulty: c.difficulty,
		ExpiresAt:  time.Unix(c.expiresAt, 0),
		Token:      i.sign(c),
	}, nil
}

// Verify accepts a solved challenge once. It returns nil if token was
// issued by this issuer's key for purpose, has not expired, demands at
// least the issuer's current difficulty, nonce proves the work, and this is
// the first successful redemption. Otherwise it returns one of ErrInvalidToken,
// ErrWrongPurpose, ErrExpired, ErrInsufficientWork or ErrReplayed, or a
// wrapped SpentStore error (treat as a server error, 500/503).
//
// The cheap checks run first, so garbage costs one HMAC; the SpentStore is
// written only for valid work.
func (i *Issuer) Verify(ctx context.Context, token, nonce, purpose string) error {
	c, err := i.parse(token)
	if err != nil {
		return err
	}
	if c.purpose != purpose {
		return ErrWrongPurpose
	}
	expiresAt := time.Unix(c.expiresAt, 0)
	if !i.now().Before(expiresAt) {
		return ErrExpired
	}
	if c.difficulty < i.difficulty {
		// Issued before the operator raised the difficulty.
		return ErrInsufficientWork
	}
	if !validNonce(nonce) || !workDone(token, nonce, c.difficulty) {
		return ErrInsufficientWork
	}
	first, err := i.spent.MarkSpent(ctx, c.id, expiresAt)
	if err != nil {
		return fmt.Errorf("failed to mark challenge spent: %w", err)
	}
	if !first {
		return ErrReplayed
	}
	return nil
}

// validPurpose reports whether p is 1–64 characters of [a-z0-9._-]. The
// restriction keeps '|' (the token's field separator) out.
func validPurpose(p string) bool {
	if p == "" || len(p) > maxPurposeLength {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '.', ch == '_', ch == '-':
		default:
			return false
		}
	}
	return true
}
