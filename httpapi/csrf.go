package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
)

// CSRFHeader is the request header that carries the CSRF token of every
// state-changing request to a rathaus API.
const CSRFHeader = "X-Rathaus-CSRF"

// MinCSRFKeyBytes is the shortest key NewCSRF accepts.
const MinCSRFKeyBytes = 32

// CSRF derives the CSRF token of a session and checks it. A token is an
// HMAC of the session's binding (such as the hash of its cookie), so it
// needs no storage, survives a restart as long as the key does, and is
// worthless for any other session.
type CSRF struct {
	key []byte
}

// NewCSRF returns a CSRF with the key, which must be at least
// MinCSRFKeyBytes long (ErrWeakKey).
func NewCSRF(key []byte) (*CSRF, error) {
	if len(key) < MinCSRFKeyBytes {
		return nil, fmt.Errorf("failed to create CSRF tokens: %w: %d bytes, need %d", ErrWeakKey, len(key), MinCSRFKeyBytes)
	}
	return &CSRF{key: append([]byte(nil), key...)}, nil
}

// Token is the CSRF token of binding.
func (c *CSRF) Token(binding string) string {
	mac := hmac.New(sha256.New, c.key)
	mac.Write([]byte("csrf|" + binding))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Valid reports whether token is binding's token, comparing in constant
// time. An empty token or binding is never valid.
func (c *CSRF) Valid(token, binding string) bool {
	if token == "" || binding == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(c.Token(binding))) == 1
}

// Check reports whether r carries binding's token in CSRFHeader.
func (c *CSRF) Check(r *http.Request, binding string) bool {
	return c.Valid(r.Header.Get(CSRFHeader), binding)
}
