// Package fitconnect checks the callbacks of FIT-Connect's delivery
// service (Zustelldienst): a hex HMAC-SHA512 over "<callback-timestamp>.<raw
// body>" in the callback-authentication header, the timestamp in Unix
// seconds and at most five minutes old, compared in constant time. A
// callback that fails any check must be ignored; nothing of it is read.
//
// The scheme is FIT-Connect's ("Callbacks", docs.fitko.de/fit-connect);
// Verify accepts the documentation's own examples (see the tests).
package fitconnect

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a callback.
const (
	HeaderAuthentication = "callback-authentication"
	HeaderTimestamp      = "callback-timestamp"
)

// MaxAge is how old a callback's timestamp may be. A timestamp as far in
// the future is refused too: the clocks disagree, or someone made it up.
const MaxAge = 5 * time.Minute

// MinSecretLength is the shortest callback secret rathaus accepts, in bytes.
const MinSecretLength = 32

// Errors of Verify; every one means "ignore this callback".
var (
	ErrMissingHeader = errors.New("fitconnect: callback-authentication or callback-timestamp missing")
	ErrBadTimestamp  = errors.New("fitconnect: callback-timestamp is not Unix seconds")
	ErrStale         = errors.New("fitconnect: callback-timestamp is more than 5 minutes away from now")
	ErrBadSignature  = errors.New("fitconnect: callback-authentication does not match the body")
	ErrShortSecret   = fmt.Errorf("fitconnect: the callback secret is shorter than %d bytes", MinSecretLength)
)

// Verify checks a callback's headers against its raw body (exactly the
// bytes received) and the shared secret.
func Verify(secret []byte, timestamp, authentication string, body []byte, now time.Time) error {
	if len(secret) < MinSecretLength {
		return ErrShortSecret
	}
	timestamp, authentication = strings.TrimSpace(timestamp), strings.TrimSpace(authentication)
	if timestamp == "" || authentication == "" {
		return ErrMissingHeader
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || secs <= 0 {
		return ErrBadTimestamp
	}
	if age := now.Sub(time.Unix(secs, 0)); age > MaxAge || age < -MaxAge {
		return ErrStale
	}
	got, err := hex.DecodeString(authentication)
	if err != nil || len(got) != sha512.Size {
		return ErrBadSignature
	}
	if !hmac.Equal(got, mac(secret, timestamp, body)) {
		return ErrBadSignature
	}
	return nil
}

// Sign returns the two headers of a callback sent at t: what FIT-Connect
// sends, for tests and for documentation.
func Sign(secret []byte, t time.Time, body []byte) (timestamp, authentication string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	return timestamp, hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha512.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// TypeNewSubmissions is the type of the callback FIT-Connect's delivery
// service sends when submissions are ready: they are "submitted".
const TypeNewSubmissions = "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions"

// Callback is the body of a verified callback: its type and the
// submissions it concerns.
type Callback struct {
	Type        string       `json:"type"`
	Submissions []Submission `json:"submissions"`
	// SubmissionIDs is the older, deprecated list FIT-Connect still sends.
	SubmissionIDs []string `json:"submissionIds"`
}

// Submission names one submission of a callback.
type Submission struct {
	DestinationID string `json:"destinationId"`
	SubmissionID  string `json:"submissionId"`
	CaseID        string `json:"caseId"`
	// Status is the submission's status in a status callback (submitted,
	// forwarded, rejected, accepted); FIT-Connect's new-submissions
	// callback has none.
	Status string `json:"status,omitempty"`
}

// Parse reads a verified callback's body. Call it only after Verify.
func Parse(body []byte) (*Callback, error) {
	var c Callback
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("fitconnect: callback body: %w", err)
	}
	if c.Type == "" {
		return nil, errors.New("fitconnect: callback body has no type")
	}
	if len(c.Submissions) == 0 {
		for _, id := range c.SubmissionIDs {
			c.Submissions = append(c.Submissions, Submission{SubmissionID: id})
		}
	}
	return &c, nil
}
