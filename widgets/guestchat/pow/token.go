package pow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

const (
	// tokenVersion is the first payload field, so the format can change
	// without old tokens being misread.
	tokenVersion = "v1"
	// idBytes is the size of a challenge id: 128 random bits.
	idBytes          = 16
	maxPurposeLength = 64
	// maxTokenLength bounds the work spent on hostile input before the
	// HMAC is checked. Real tokens are under 250 characters.
	maxTokenLength = 512
)

// tokenClaims are the signed fields of a token.
type tokenClaims struct {
	id         string
	purpose    string
	difficulty int
	expiresAt  int64 // Unix seconds
}

// sign encodes c as base64url(payload) + "." + base64url(mac).
func (i *Issuer) sign(c tokenClaims) string {
	payload := strings.Join([]string{
		tokenVersion,
		c.id,
		c.purpose,
		strconv.Itoa(c.difficulty),
		strconv.FormatInt(c.expiresAt, 10),
	}, "|")
	body := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return body + "." + base64.RawURLEncoding.EncodeToString(i.mac(body))
}

func (i *Issuer) mac(body string) []byte {
	m := hmac.New(sha256.New, i.key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// parse checks token's signature and returns its claims, or
// ErrInvalidToken. The signature is checked before any field is trusted.
func (i *Issuer) parse(token string) (tokenClaims, error) {
	if len(token) > maxTokenLength {
		return tokenClaims{}, ErrInvalidToken
	}
	body, sig, ok := strings.Cut(token, ".")
	if !ok || body == "" {
		return tokenClaims{}, ErrInvalidToken
	}
	gotMAC, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(gotMAC, i.mac(body)) {
		return tokenClaims{}, ErrInvalidToken
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return tokenClaims{}, ErrInvalidToken
	}
	// A correctly signed token that fails below means a bug or a leaked
	// key; refuse it all the same.
	fields := strings.Split(string(payload), "|")
	if len(fields) != 5 || fields[0] != tokenVersion {
		return tokenClaims{}, ErrInvalidToken
	}
	c := tokenClaims{id: fields[1], purpose: fields[2]}
	if raw, err := base64.RawURLEncoding.Strict().DecodeString(c.id); err != nil || len(raw) != idBytes {
		return tokenClaims{}, ErrInvalidToken
	}
	if !validPurpose(c.purpose) {
		return tokenClaims{}, ErrInvalidToken
	}
	if c.difficulty, err = strconv.Atoi(fields[3]); err != nil || c.difficulty < MinDifficulty || c.difficulty > MaxDifficulty {
		return tokenClaims{}, ErrInvalidToken
	}
	if c.expiresAt, err = strconv.ParseInt(fields[4], 10, 64); err != nil {
		return tokenClaims{}, ErrInvalidToken
	}
	return c, nil
}
