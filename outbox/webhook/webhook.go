// Package webhook signs and delivers rathaus's webhooks, and checks them
// on the receiving side (for receivers written in Go, and for tests).
//
// The format, one for every webhook rathaus sends:
//
//	POST <url>
//	Content-Type: application/json
//	Rathaus-Webhook-Id: <delivery id>          unique per delivery, the same on every retry
//	Rathaus-Webhook-Timestamp: <Unix seconds>  when this attempt was signed
//	Rathaus-Webhook-Signature: v1=<hex HMAC-SHA256 over "<timestamp>.<raw body>">
//
// A receiver recomputes the HMAC with the shared secret over the header's
// timestamp, a dot and the body exactly as received, compares in constant
// time, rejects timestamps more than five minutes from its clock, and
// de-duplicates by delivery id: a retry after a lost answer carries the
// same id. During a secret rotation the header carries two v1= values,
// comma-separated, one per secret (current first); one matching is enough.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rathaus-de/rathaus/httpapi/netguard"
)

// The headers of a webhook.
const (
	HeaderID        = "Rathaus-Webhook-Id"
	HeaderTimestamp = "Rathaus-Webhook-Timestamp"
	HeaderSignature = "Rathaus-Webhook-Signature"
)

// MaxAge is how far a webhook's timestamp may be from the receiver's
// clock.
const MaxAge = 5 * time.Minute

// MinSecretLength is the shortest secret rathaus signs with, in bytes.
const MinSecretLength = 32

// Errors of Verify.
var (
	ErrMissingHeader = errors.New("webhook: a Rathaus-Webhook header is missing")
	ErrStale         = errors.New("webhook: the timestamp is more than 5 minutes from now")
	ErrBadSignature  = errors.New("webhook: no signature matches the body")
)

// Sign returns the signature header's value for body, signed at t.
func Sign(secret []byte, t time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	return timestamp, "v1=" + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a received webhook: its headers against the raw body and
// the secret, at now. It returns the delivery id to de-duplicate by.
func Verify(secret []byte, h http.Header, body []byte, now time.Time) (deliveryID string, err error) {
	id, ts, sig := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sig == "" {
		return "", ErrMissingHeader
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", ErrStale
	}
	if d := now.Sub(time.Unix(secs, 0)); d > MaxAge || d < -MaxAge {
		return "", ErrStale
	}
	want := mac(secret, ts, body)
	for _, part := range strings.Split(sig, ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue
		}
		if got, err := hex.DecodeString(v); err == nil && hmac.Equal(got, want) {
			return id, nil
		}
	}
	return "", ErrBadSignature
}

// Delivery is one webhook to send.
type Delivery struct {
	URL string
	// ID is the delivery id; the same on every attempt of one delivery.
	ID     string
	Secret []byte
	// PreviousSecret, during a rotation, signs too: the header then
	// carries two v1= values, the current secret's first.
	PreviousSecret []byte
	// Body is the JSON to send, signed as it is.
	Body []byte
}

// ErrPermanent wraps a failure that a retry will not fix (the receiver
// refused the webhook with a 4xx other than 408 and 429, or the target is
// not allowed).
var ErrPermanent = errors.New("webhook: permanent failure")

// ErrForbiddenTarget is returned for a URL whose address netguard refuses
// (loopback, private, link-local, shared, reserved, multicast) while the client does not
// allow such targets (a webhook must not reach into the authority's own
// network on behalf of whoever configured the URL).
var ErrForbiddenTarget = errors.New("webhook: target address not allowed")

// Client sends webhooks.
type Client struct {
	http *http.Client
}

// NewClient returns a client with a timeout per attempt. allowPrivate lets
// it reach loopback and private addresses (tests, and receivers inside the
// authority's network that the operator allowed on purpose).
func NewClient(timeout time.Duration, allowPrivate bool) *Client {
	dialer := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrForbiddenTarget, address)
			}
			if reason := netguard.RefusedReason(ap.Addr()); reason != "" {
				return fmt.Errorf("%w: %s (%s)", ErrForbiddenTarget, ap.Addr(), reason)
			}
			return nil
		}
	}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
		Proxy:                 nil, // never through an environment proxy: the target check is on the real address
	}
	return &Client{http: &http.Client{
		Transport: transport,
		Timeout:   timeout,
		// A redirect could lead anywhere; the receiver must answer itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Send makes one attempt of a delivery, signed now. A nil error means the
// receiver answered 2xx. Errors wrapping ErrPermanent will not get better
// with a retry; others may.
func (c *Client) Send(ctx context.Context, d Delivery, now time.Time) error {
	if len(d.Secret) < MinSecretLength {
		return fmt.Errorf("%w: the secret is shorter than %d bytes", ErrPermanent, MinSecretLength)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	ts, sig := Sign(d.Secret, now, d.Body)
	if len(d.PreviousSecret) > 0 {
		_, old := Sign(d.PreviousSecret, now, d.Body)
		sig += "," + old
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rathaus-webhook")
	req.Header.Set(HeaderID, d.ID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, sig)
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, ErrForbiddenTarget) {
			return fmt.Errorf("%w: %w", ErrPermanent, err)
		}
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("webhook: the receiver answered %d", resp.StatusCode)
	default:
		return fmt.Errorf("%w: the receiver answered %d", ErrPermanent, resp.StatusCode)
	}
}
