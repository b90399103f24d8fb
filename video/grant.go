package video

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A grant of the embedded backend is a compact token:
//
//	base64url(claims JSON) "." base64url(HMAC-SHA256(key, grantDomain + claims part))
//
// signed with a key of at least MinGrantKeyLength bytes. It binds one
// call, one identity, the rights and an expiry; the media server verifies
// it at join with the call the participant asks for.

// The refusals of VerifyGrant. None of them says more than which check
// failed; the token itself is never part of an error.
var (
	ErrGrantMalformed   = errors.New("video: the grant is malformed")
	ErrGrantSignature   = errors.New("video: the grant's signature is wrong")
	ErrGrantWrongCall   = errors.New("video: the grant is for another call")
	ErrGrantExpired     = errors.New("video: the grant has expired")
	ErrGrantNotYetValid = errors.New("video: the grant is not valid yet")
	ErrGrantKey         = errors.New("video: the grant key is too short")
)

const (
	// MinGrantKeyLength is the shortest key Mint and Verify accept.
	MinGrantKeyLength = 32
	// MaxGrantTTL is the longest a grant may be valid.
	MaxGrantTTL = time.Hour
	// maxGrantLength bounds a token before anything is decoded.
	maxGrantLength = 2048
	// grantSkew is the clock difference tolerated for issued-at.
	grantSkew = 30 * time.Second
	// grantDomain separates these MACs from any other use of the key.
	grantDomain = "rathaus-video-grant.v1."
)

// GrantClaims are what a grant says.
type GrantClaims struct {
	Call     CallID   `json:"call"`
	Identity Identity `json:"sub"`
	Rights   Rights   `json:"rights"`
	// IssuedAt and Expires are Unix seconds.
	IssuedAt int64 `json:"iat"`
	Expires  int64 `json:"exp"`
	// ID is random: two grants for the same join differ.
	ID string `json:"jti"`
}

// MintGrant signs a grant for call and identity with rights, valid from
// now for ttl (at most MaxGrantTTL).
func MintGrant(key []byte, call CallID, who Identity, rights Rights, now time.Time, ttl time.Duration) (string, GrantClaims, error) {
	if len(key) < MinGrantKeyLength {
		return "", GrantClaims{}, ErrGrantKey
	}
	if call == "" || who == "" {
		return "", GrantClaims{}, fmt.Errorf("%w: a grant needs a call and an identity", ErrGrantMalformed)
	}
	if ttl <= 0 || ttl > MaxGrantTTL {
		ttl = MaxGrantTTL
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return "", GrantClaims{}, fmt.Errorf("video: failed to make a grant id: %w", err)
	}
	c := GrantClaims{Call: call, Identity: who, Rights: rights, IssuedAt: now.Unix(),
		Expires: now.Add(ttl).Unix(), ID: hex.EncodeToString(nonce)}
	raw, err := json.Marshal(c)
	if err != nil {
		return "", GrantClaims{}, err
	}
	payload := base64.RawURLEncoding.EncodeToString(raw)
	token := payload + "." + base64.RawURLEncoding.EncodeToString(grantMAC(key, payload))
	if len(token) > maxGrantLength {
		return "", GrantClaims{}, fmt.Errorf("%w: the grant would be longer than %d bytes", ErrGrantMalformed, maxGrantLength)
	}
	return token, c, nil
}

// VerifyGrant checks a token presented to join call at now. keys are the
// current key and, while one is rotated out, the previous one; the token
// verifies if any of them signed it.
func VerifyGrant(keys [][]byte, token string, call CallID, now time.Time) (GrantClaims, error) {
	if len(token) == 0 || len(token) > maxGrantLength {
		return GrantClaims{}, ErrGrantMalformed
	}
	payload, sig64, ok := strings.Cut(token, ".")
	if !ok || payload == "" || strings.Contains(sig64, ".") {
		return GrantClaims{}, ErrGrantMalformed
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sig64)
	if err != nil || len(sig) != sha256.Size {
		return GrantClaims{}, ErrGrantMalformed
	}
	signed := false
	for _, key := range keys {
		if len(key) < MinGrantKeyLength {
			return GrantClaims{}, ErrGrantKey
		}
		if hmac.Equal(sig, grantMAC(key, payload)) {
			signed = true
		}
	}
	if !signed {
		return GrantClaims{}, ErrGrantSignature
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return GrantClaims{}, ErrGrantMalformed
	}
	var c GrantClaims
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err = dec.Decode(&c); err != nil || dec.More() || c.Call == "" || c.Identity == "" || c.ID == "" || c.Expires <= c.IssuedAt {
		return GrantClaims{}, ErrGrantMalformed
	}
	switch {
	case c.Call != call:
		return GrantClaims{}, ErrGrantWrongCall
	case now.Unix() >= c.Expires:
		return GrantClaims{}, ErrGrantExpired
	case time.Unix(c.IssuedAt, 0).After(now.Add(grantSkew)):
		return GrantClaims{}, ErrGrantNotYetValid
	case time.Duration(c.Expires-c.IssuedAt)*time.Second > MaxGrantTTL:
		return GrantClaims{}, ErrGrantMalformed
	}
	return c, nil
}

func grantMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(grantDomain))
	m.Write([]byte(payload))
	return m.Sum(nil)
}
