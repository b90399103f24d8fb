package guestchat

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
)

// TestUntrustedProxyWarning (issue 12, point 2): behind a proxy nobody
// listed, all citizens share one address and its quota. rathaus says so
// at start (https:// public URL, no trusted proxy) and once when a
// request brings a proxy header from a peer it does not trust; never with
// the peer's address.
func TestUntrustedProxyWarning(t *testing.T) {
	start := func(publicURL string, proxies ...string) (*Server, *bytes.Buffer) {
		var logs bytes.Buffer
		cfg := config.Default()
		cfg.GuestChat.PublicURL = publicURL
		cfg.GuestChat.TrustedProxies = proxies
		opts := testOptions(t, cfg)
		opts.Log = zerolog.New(&logs)
		s, err := New(opts)
		require.NoError(t, err)
		return s, &logs
	}
	request := func(s *Server, remote string) {
		r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/api/guest/v1/session", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", "198.51.100.7")
		s.ServeHTTP(httptest.NewRecorder(), r)
	}

	s, logs := start("https://chat.bad-beispielheim.de")
	assert.Equal(t, 1, strings.Count(logs.String(), "not in guest_chat.trusted_proxies"), "at start: %s", logs)
	request(s, "127.0.0.1:40000")
	request(s, "127.0.0.1:40001")
	assert.Equal(t, 2, strings.Count(logs.String(), "not in guest_chat.trusted_proxies"), "once more, on the first proxied request: %s", logs)
	assert.NotContains(t, logs.String(), "198.51.100.7")
	assert.NotContains(t, logs.String(), "127.0.0.1:4000")

	s, logs = start("https://chat.bad-beispielheim.de", "127.0.0.1")
	request(s, "127.0.0.1:40000")
	assert.NotContains(t, logs.String(), "trusted_proxies", "the proxy is trusted")

	s, logs = start("http://127.0.0.1:29332")
	r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/api/guest/v1/session", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	s.ServeHTTP(httptest.NewRecorder(), r)
	assert.NotContains(t, logs.String(), "trusted_proxies", "plain http on loopback without proxy headers: no proxy")
}

func TestClientIPHeaderIsChecked(t *testing.T) {
	cfg := config.Default()
	cfg.GuestChat.ClientIPHeader = "X-Real-IP"
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "guest_chat.client_ip_header")
	cfg.GuestChat.ClientIPHeader = "forwarded"
	err = cfg.Validate()
	if err != nil {
		assert.NotContains(t, err.Error(), "client_ip_header")
	}
}
