package pow

import "errors"

// Errors returned by Verify. None of them is worth logging with the token:
// tell the client which kind of failure it was and let it start over.
var (
	// ErrInvalidToken is returned by Verify when the token is malformed, was
	// signed with another key or was altered (for example a lowered
	// difficulty). The caller should refuse the request (400) and let the
	// client fetch a new challenge; a client that keeps sending these is
	// misbehaving.
	ErrInvalidToken = errors.New("invalid proof-of-work token")
	// ErrExpired is returned by Verify when the challenge's lifetime is
	// over. The caller should ask the client to fetch a new challenge and
	// solve it again.
	ErrExpired = errors.New("proof-of-work challenge expired")
	// ErrWrongPurpose is returned by Verify when the token was issued for
	// another purpose than the one being verified. The caller should refuse
	// the request; the client must fetch a challenge for this action.
	ErrWrongPurpose = errors.New("proof-of-work challenge issued for another purpose")
	// ErrInsufficientWork is returned by Verify when the nonce is malformed,
	// its hash has too few leading zero bits, or the token's difficulty is
	// below what the issuer currently demands (after an operator raised it).
	// The caller should refuse the request and let the client fetch and
	// solve a new challenge.
	ErrInsufficientWork = errors.New("insufficient proof of work")
	// ErrReplayed is returned by Verify when the challenge was already
	// redeemed. The caller should refuse the request (the first request
	// that used it went through); an honest client fetches a new challenge.
	ErrReplayed = errors.New("proof-of-work challenge already used")
)

// Errors returned when pow is used wrongly. They are programming or
// configuration errors, not client behaviour.
var (
	// ErrInvalidOptions is returned (wrapped, with every problem found) by
	// NewIssuer when IssuerOptions are missing or out of range.
	ErrInvalidOptions = errors.New("invalid proof-of-work options")
	// ErrInvalidPurpose is returned by Issue for a purpose that is empty,
	// too long or uses characters other than a-z, 0-9, '.', '_' and '-'.
	ErrInvalidPurpose = errors.New("invalid proof-of-work purpose")
	// ErrInvalidDifficulty is returned by Solve for a difficulty outside
	// MinDifficulty..MaxDifficulty.
	ErrInvalidDifficulty = errors.New("proof-of-work difficulty out of range")
)
