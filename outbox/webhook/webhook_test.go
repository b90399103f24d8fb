package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/outbox/webhook"
)

var secret = []byte("0123456789abcdef0123456789abcdef-webhook")

// receiver is a webhook receiver as the docs describe it: it verifies
// signature and timestamp and remembers the delivery ids it saw.
type receiver struct {
	mu       sync.Mutex
	ids      []string
	bodies   []string
	status   int // answered after a valid webhook
	rejected int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, err := webhook.Verify(secret, r.Header, body, time.Now())
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		rc.rejected++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.ids = append(rc.ids, id)
	rc.bodies = append(rc.bodies, string(body))
	if rc.status != 0 {
		w.WriteHeader(rc.status)
	}
}

func TestSendAndVerify(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	c := webhook.NewClient(5*time.Second, true)
	ctx := context.Background()
	d := webhook.Delivery{URL: srv.URL, ID: "d-1", Secret: secret, Body: []byte(`{"event":"case.claimed"}`)}
	require.NoError(t, c.Send(ctx, d, time.Now()))
	require.NoError(t, c.Send(ctx, d, time.Now()), "a retry")
	assert.Equal(t, []string{"d-1", "d-1"}, rc.ids, "a retry carries the same delivery id")
	assert.Equal(t, `{"event":"case.claimed"}`, rc.bodies[0])

	rc.status = http.StatusServiceUnavailable
	err := c.Send(ctx, d, time.Now())
	require.Error(t, err)
	assert.NotErrorIs(t, err, webhook.ErrPermanent, "5xx may get better")
	rc.status = http.StatusTooManyRequests
	assert.NotErrorIs(t, c.Send(ctx, d, time.Now()), webhook.ErrPermanent)
	rc.status = http.StatusBadRequest
	assert.ErrorIs(t, c.Send(ctx, d, time.Now()), webhook.ErrPermanent, "the receiver refuses it")

	// Signed ten minutes ago: the receiver refuses it, and says so.
	rc.status = 0
	err = c.Send(ctx, d, time.Now().Add(-10*time.Minute))
	assert.ErrorIs(t, err, webhook.ErrPermanent, "401 from the receiver")
	assert.Equal(t, 1, rc.rejected)

	short := d
	short.Secret = []byte("short")
	assert.ErrorIs(t, c.Send(ctx, short, time.Now()), webhook.ErrPermanent)
}

func TestVerifyRefuses(t *testing.T) {
	body := []byte(`{"event":"case.resolved"}`)
	now := time.Now()
	ts, sig := webhook.Sign(secret, now, body)
	h := func(id, ts, sig string) http.Header {
		out := http.Header{}
		for k, v := range map[string]string{webhook.HeaderID: id, webhook.HeaderTimestamp: ts, webhook.HeaderSignature: sig} {
			if v != "" {
				out.Set(k, v)
			}
		}
		return out
	}
	id, err := webhook.Verify(secret, h("d-7", ts, sig), body, now)
	require.NoError(t, err)
	assert.Equal(t, "d-7", id)
	_, err = webhook.Verify(secret, h("d-7", ts, "v1=00,"+sig), body, now)
	require.NoError(t, err, "one of several signatures (rotation) is enough")

	old := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	_, oldSig := webhook.Sign(secret, now.Add(-6*time.Minute), body)
	for name, tc := range map[string]struct {
		h    http.Header
		body []byte
		want error
	}{
		"changed body":    {h("d-7", ts, sig), []byte(`{"event":"case.closed"}`), webhook.ErrBadSignature},
		"wrong secret":    {h("d-7", ts, "v1="+strings.Repeat("ab", 32)), body, webhook.ErrBadSignature},
		"stale":           {h("d-7", old, oldSig), body, webhook.ErrStale},
		"timestamp moved": {h("d-7", strconv.FormatInt(now.Unix()+1, 10), sig), body, webhook.ErrBadSignature},
		"no id":           {h("", ts, sig), body, webhook.ErrMissingHeader},
		"no signature":    {h("d-7", ts, ""), body, webhook.ErrMissingHeader},
		"unknown version": {h("d-7", ts, strings.Replace(sig, "v1=", "v2=", 1)), body, webhook.ErrBadSignature},
	} {
		_, err := webhook.Verify(secret, tc.h, tc.body, now)
		assert.ErrorIs(t, err, tc.want, name)
	}
}

// Without allowPrivate, a webhook never reaches loopback or the
// authority's own network, whatever the URL's host name resolves to.
func TestPrivateTargetsRefused(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	c := webhook.NewClient(5*time.Second, false)
	err := c.Send(context.Background(), webhook.Delivery{URL: srv.URL, ID: "d-1", Secret: secret, Body: []byte(`{}`)}, time.Now())
	assert.ErrorIs(t, err, webhook.ErrForbiddenTarget)
	assert.ErrorIs(t, err, webhook.ErrPermanent)
	localhost := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	err = c.Send(context.Background(), webhook.Delivery{URL: localhost, ID: "d-2", Secret: secret, Body: []byte(`{}`)}, time.Now())
	assert.ErrorIs(t, err, webhook.ErrForbiddenTarget, "a name is checked by the address it resolves to")
	assert.Empty(t, rc.ids)

}

func TestNoRedirects(t *testing.T) {
	rc := &receiver{}
	target := httptest.NewServer(rc)
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	c := webhook.NewClient(5*time.Second, true)
	err := c.Send(context.Background(), webhook.Delivery{URL: redirect.URL, ID: "d-1", Secret: secret, Body: []byte(`{}`)}, time.Now())
	assert.ErrorIs(t, err, webhook.ErrPermanent, "a redirect is the receiver's mistake")
	assert.Empty(t, rc.ids, "the redirect is not followed")
}

// TestSendDuringRotation: with a previous secret the header carries two
// signatures, current first, and a receiver that still has only the old
// secret accepts the webhook, as one that has only the new one does.
func TestSendDuringRotation(t *testing.T) {
	old := []byte("an-old-secret-of-at-least-32-bytes-0000")
	var header http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		header, body = r.Header.Clone(), must(io.ReadAll(r.Body))
	}))
	defer srv.Close()
	now := time.Now()
	d := webhook.Delivery{URL: srv.URL, ID: "d-rot", Secret: secret, PreviousSecret: old, Body: []byte(`{"type":"case.closed"}`)}
	require.NoError(t, webhook.NewClient(5*time.Second, true).Send(context.Background(), d, now))
	parts := strings.Split(header.Get(webhook.HeaderSignature), ",")
	require.Len(t, parts, 2)
	_, current := webhook.Sign(secret, now, body)
	assert.Equal(t, current, parts[0], "the current secret's signature first")
	for _, s := range [][]byte{secret, old} {
		id, err := webhook.Verify(s, header, body, now)
		require.NoError(t, err)
		assert.Equal(t, "d-rot", id)
	}
	_, err := webhook.Verify([]byte("a-third-secret-of-at-least-32-bytes-000"), header, body, now)
	assert.ErrorIs(t, err, webhook.ErrBadSignature)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
