package openid_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice/openid"
	"github.com/rathaus-de/rathaus/internal/fakeclock"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// fakeServer is a federation endpoint on loopback that we control: its
// server name is 127.0.0.1:PORT, as for the test homeservers.
type fakeServer struct {
	*httptest.Server
	name  string
	calls atomic.Int32
}

// startFake starts a fake server whose handler is made from its name.
func startFake(t *testing.T, handler func(name string) http.HandlerFunc) *fakeServer {
	t.Helper()
	f := &fakeServer{}
	var h atomic.Pointer[http.HandlerFunc]
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		(*h.Load())(w, r)
	}))
	f.StartTLS()
	t.Cleanup(f.Close)
	f.name = strings.TrimPrefix(f.URL, "https://")
	hf := handler(f.name)
	h.Store(&hf)
	return f
}

// fixed is a handler that does not need the server name.
func fixed(h http.HandlerFunc) func(string) http.HandlerFunc {
	return func(string) http.HandlerFunc { return h }
}

// userinfo answers like a homeserver that knows one token.
func userinfo(token, sub string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/_matrix/federation/v1/openid/userinfo" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errcode":"M_UNRECOGNIZED","error":"no"}`))
			return
		}
		if r.URL.Query().Get("access_token") != token {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errcode":"M_UNKNOWN_TOKEN","error":"Access Token unknown or expired"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"sub": sub})
	}
}

func newVerifier(t *testing.T, opts openid.Options, trust ...*x509.Certificate) *openid.Verifier {
	t.Helper()
	opts.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
	opts.ExtraRootCAs = append(opts.ExtraRootCAs, trust...)
	v, err := openid.New(opts)
	require.NoError(t, err)
	return v
}

// refused checks an error's sentinel and that it does not leak the token.
func refused(t *testing.T, err error, want error, token string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, want)
	if token != "" {
		assert.NotContains(t, err.Error(), token, "the error must not contain the token")
	}
}

func TestVerifyFakeServer(t *testing.T) {
	const token = "s3cr3t-openid-token"
	good := startFake(t, func(name string) http.HandlerFunc { return userinfo(token, "@alice:"+name) })
	v := newVerifier(t, openid.Options{AllowNetworks: loopback, CacheTTL: -1}, good.Certificate())

	user, err := v.Verify(t.Context(), good.name, token)
	require.NoError(t, err)
	assert.Equal(t, id.NewUserID("alice", good.name), user)

	_, err = v.Verify(t.Context(), good.name, "wrong-token")
	refused(t, err, openid.ErrInvalidToken, "wrong-token")
	assert.Contains(t, err.Error(), "M_UNKNOWN_TOKEN")
}

// A malicious homeserver answers for a user of another server: refused
// (CVE-2023-38691), however the sub is dressed.
func TestVerifyRefusesSubOfAnotherServer(t *testing.T) {
	const token = "evil-token"
	for _, sub := range []string{
		"@alice:stadt-musterhausen.de",
		"@alice:127.0.0.1:1",
		"@alice:stadt-musterhausen.de:8448",
		"alice",
		"",
	} {
		t.Run(sub, func(t *testing.T) {
			evil := startFake(t, fixed(userinfo(token, sub)))
			v := newVerifier(t, openid.Options{AllowNetworks: loopback}, evil.Certificate())
			_, err := v.Verify(t.Context(), evil.name, token)
			refused(t, err, openid.ErrSubMismatch, token)
			assert.EqualValues(t, 1, evil.calls.Load(), "the server was asked")
		})
	}
}

func TestVerifyRefusesForbiddenTargets(t *testing.T) {
	fake := startFake(t, fixed(userinfo("tok", "@alice:whatever")))
	v := newVerifier(t, openid.Options{}, fake.Certificate()) // production: nothing allowed
	for _, name := range []string{
		fake.name, "[::1]:" + fake.name[strings.LastIndexByte(fake.name, ':')+1:],
		"10.0.0.1:8448", "192.168.1.1", "169.254.169.254:80", "100.64.0.1:8448", "0.0.0.0:8448",
		"localhost:" + fake.name[strings.LastIndexByte(fake.name, ':')+1:],
	} {
		_, err := v.Verify(t.Context(), name, "tok")
		refused(t, err, openid.ErrForbiddenTarget, "tok")
	}
	assert.Zero(t, fake.calls.Load(), "nothing may reach a forbidden address")
}

func TestVerifyRefusesRedirect(t *testing.T) {
	other := startFake(t, fixed(func(http.ResponseWriter, *http.Request) {}))
	redirector := startFake(t, fixed(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	v := newVerifier(t, openid.Options{AllowNetworks: loopback}, redirector.Certificate())
	_, err := v.Verify(t.Context(), redirector.name, "tok")
	refused(t, err, openid.ErrBadResponse, "tok")
	assert.Zero(t, other.calls.Load(), "a redirect must not carry the token elsewhere")
}

func TestVerifyRefusesLargeAnswer(t *testing.T) {
	fake := startFake(t, fixed(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"sub":"` + strings.Repeat("a", 2048) + `"}`))
	}))
	v := newVerifier(t, openid.Options{AllowNetworks: loopback, MaxResponseBytes: 1024}, fake.Certificate())
	_, err := v.Verify(t.Context(), fake.name, "tok")
	refused(t, err, openid.ErrBadResponse, "tok")
}

func TestVerifyTLS(t *testing.T) {
	fake := startFake(t, func(name string) http.HandlerFunc { return userinfo("tok", "@alice:"+name) })

	untrusting := newVerifier(t, openid.Options{AllowNetworks: loopback})
	_, err := untrusting.Verify(t.Context(), fake.name, "tok")
	refused(t, err, openid.ErrUnreachable, "tok")
	assert.Contains(t, err.Error(), "certificate")

	skipping := newVerifier(t, openid.Options{AllowNetworks: loopback, InsecureSkipVerifyLoopback: true})
	user, err := skipping.Verify(t.Context(), fake.name, "tok")
	require.NoError(t, err)
	assert.Equal(t, id.NewUserID("alice", fake.name), user)
}

func TestVerifySlowServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	slow := startFake(t, fixed(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer close(release) // before slow.Close, which waits for the handler
	v := newVerifier(t, openid.Options{AllowNetworks: loopback, Timeout: 300 * time.Millisecond}, slow.Certificate())
	start := time.Now()
	_, err := v.Verify(t.Context(), slow.name, "tok")
	refused(t, err, openid.ErrUnreachable, "tok")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestVerifyCaches(t *testing.T) {
	fake := startFake(t, func(name string) http.HandlerFunc { return userinfo("tok", "@alice:"+name) })
	clock := fakeclock.New()
	v := newVerifier(t, openid.Options{AllowNetworks: loopback, CacheTTL: time.Minute, Now: clock.Now}, fake.Certificate())

	for range 3 {
		_, err := v.Verify(t.Context(), fake.name, "tok")
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, fake.calls.Load(), "answered from the cache")

	for range 2 {
		_, err := v.Verify(t.Context(), fake.name, "other")
		refused(t, err, openid.ErrInvalidToken, "other")
	}
	assert.EqualValues(t, 3, fake.calls.Load(), "failures are not cached")

	clock.Advance(time.Minute)
	_, err := v.Verify(t.Context(), fake.name, "tok")
	require.NoError(t, err)
	assert.EqualValues(t, 4, fake.calls.Load(), "asked again after the TTL")
}

func TestNewRejectsBadOptions(t *testing.T) {
	_, err := openid.New(openid.Options{Timeout: -1})
	assert.Error(t, err)
	_, err = openid.New(openid.Options{AllowNetworks: []netip.Prefix{{}}})
	assert.Error(t, err)
}
