package ozg

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// APIKeyPrefix starts every API key rathaus makes, so a leaked key is
// recognisable (secret scanners, logs) as one of rathaus's.
const APIKeyPrefix = "rh_"

// apiKeyBytes is the entropy of an API key: 256 bits, so that a plain
// SHA-256 of it (config.HashAPIKey) is as good as a slow hash.
const apiKeyBytes = 32

// NewAPIKey makes an API key for the intake API: APIKeyPrefix and 32
// random bytes, base64url without padding (46 characters in all).
func NewAPIKey() (string, error) {
	b := make([]byte, apiKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("failed to make an API key: %w", err)
	}
	return APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}
