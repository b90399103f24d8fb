package ozg

import "errors"

// Errors of Verifier.Verify. Every one means the context is refused and
// nothing was stored; the caller shows the citizen the matching text and
// logs the error (its message names no claim value, only ids).
var (
	// ErrMalformed: not a compact JWS of this format (three base64url
	// parts, JSON header and claims, within the size limit), or a claim
	// has the wrong type, form or length. The caller should say that the
	// link is broken.
	ErrMalformed = errors.New("malformed context")
	// ErrAlgorithm: "alg" is "none", unknown, or does not match the key
	// type of the service ("kid"). Treat like a bad signature.
	ErrAlgorithm = errors.New("context algorithm refused")
	// ErrUnknownService: "kid" names no configured service.
	ErrUnknownService = errors.New("unknown service")
	// ErrSignature: the signature does not verify with the service's key.
	ErrSignature = errors.New("context signature invalid")
	// ErrExpired: exp has passed, iat lies in the future, or exp is more
	// than MaxLifetime after iat. The citizen should go back to the online
	// service and ask for help again.
	ErrExpired = errors.New("context expired")
	// ErrReplayed: the jti was already used by another guest session.
	ErrReplayed = errors.New("context already used")
	// ErrOrigin: the page that opened the hand-over came from an origin
	// the service did not register.
	ErrOrigin = errors.New("context opened from a foreign origin")
)
