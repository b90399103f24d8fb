package turn

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // TURN REST credentials are HMAC-SHA1 by definition (draft-uberti-behave-turn-rest)
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Credentials are short-lived, as the TURN REST API describes them
// (draft-uberti-behave-turn-rest-00): the username is "<unix expiry>:<id>"
// and the password base64(HMAC-SHA1(secret, username)). Nothing is stored:
// the server recomputes the password from the username with its secrets.
// The id part starts with the signing secret's key id ("<kid>-<id>"), so
// during a rotation the server knows which secret to recompute with.
// id must be opaque (random per grant), never a Matrix id or a name: TURN
// usernames travel in clear text on the TURN port.

// maxUsername bounds a username before anything is parsed.
const maxUsername = 128

// Refusals of a username.
var (
	errUsernameMalformed = errors.New("turn: the username is malformed")
	errUsernameExpired   = errors.New("turn: the credential has expired")
)

// Credentials makes a username and password valid for ttl from now.
func Credentials(secret []byte, id string, ttl time.Duration, now time.Time) (username, credential string, expires time.Time) {
	expires = now.Add(ttl).Truncate(time.Second)
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + keyID(secret) + "-" + id
	return username, password(secret, username), expires
}

func password(secret []byte, username string) string {
	m := hmac.New(sha1.New, secret)
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// keyID names a secret without revealing it: 8 hex digits of its
// SHA-256.
func keyID(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:4])
}

// checkUsername parses a username, checks its expiry at now and returns
// its key id.
func checkUsername(username string, now time.Time) (string, error) {
	if username == "" || len(username) > maxUsername {
		return "", errUsernameMalformed
	}
	exp, id, ok := strings.Cut(username, ":")
	if !ok || id == "" || exp == "" || len(exp) > 12 {
		return "", errUsernameMalformed
	}
	for _, r := range exp {
		if r < '0' || r > '9' {
			return "", errUsernameMalformed
		}
	}
	for _, r := range id {
		if r <= ' ' || r > '~' {
			return "", errUsernameMalformed
		}
	}
	kid, rest, ok := strings.Cut(id, "-")
	if !ok || len(kid) != 8 || rest == "" {
		return "", errUsernameMalformed
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return "", errUsernameMalformed
	}
	if !now.Before(time.Unix(unix, 0)) {
		return "", errUsernameExpired
	}
	return kid, nil
}
