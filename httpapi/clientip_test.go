package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/httpapi"
)

func TestParseTrustedProxies(t *testing.T) {
	p, err := httpapi.ParseTrustedProxies([]string{"10.0.0.1", "192.168.0.0/16", "::1", "2001:db8::/32"})
	require.NoError(t, err)
	for _, a := range []string{"10.0.0.1", "192.168.7.7", "::1", "2001:db8:1::5"} {
		assert.True(t, p.Trusted(netip.MustParseAddr(a)), a)
	}
	for _, a := range []string{"10.0.0.2", "192.169.0.1", "::2", "2001:db9::1"} {
		assert.False(t, p.Trusted(netip.MustParseAddr(a)), a)
	}

	_, err = httpapi.ParseTrustedProxies([]string{"10.0.0.1", "proxy.example", "10.0.0.0/33", "192.168.0.0/16"})
	require.ErrorIs(t, err, httpapi.ErrInvalidTrustedProxy)
	assert.Contains(t, err.Error(), `"proxy.example"`, "every bad entry is named")
	assert.Contains(t, err.Error(), `"10.0.0.0/33"`)
	assert.NotContains(t, err.Error(), `"10.0.0.1"`)

	none, err := httpapi.ParseTrustedProxies(nil)
	require.NoError(t, err)
	assert.False(t, none.Trusted(netip.MustParseAddr("127.0.0.1")))
	var nilProxies *httpapi.TrustedProxies
	assert.False(t, nilProxies.Trusted(netip.MustParseAddr("127.0.0.1")))
}

func TestClientIP(t *testing.T) {
	proxies, err := httpapi.ParseTrustedProxies([]string{"10.0.0.0/8", "fd00::/8"})
	require.NoError(t, err)
	tests := []struct {
		name    string
		proxies *httpapi.TrustedProxies
		remote  string
		xff     []string // header lines
		want    string
	}{
		{name: "no proxy", proxies: proxies, remote: "192.0.2.7:51234", want: "192.0.2.7"},
		{name: "untrusted peer's X-Forwarded-For is ignored", proxies: proxies, remote: "192.0.2.7:1",
			xff: []string{"198.51.100.1"}, want: "192.0.2.7"},
		{name: "trusted proxy", proxies: proxies, remote: "10.0.0.1:1", xff: []string{"198.51.100.1"}, want: "198.51.100.1"},
		{name: "nearest untrusted hop wins over what the client wrote", proxies: proxies, remote: "10.0.0.1:1",
			xff: []string{"203.0.113.9, 198.51.100.1, 10.0.0.2"}, want: "198.51.100.1"},
		{name: "spaces around hops", proxies: proxies, remote: "10.0.0.1:1", xff: []string{" 198.51.100.1 ,10.1.1.1 "}, want: "198.51.100.1"},
		{name: "every hop trusted: the peer", proxies: proxies, remote: "10.0.0.1:1", xff: []string{"10.0.0.3, 10.0.0.2"}, want: "10.0.0.1"},
		{name: "no header from a trusted proxy: the peer", proxies: proxies, remote: "10.0.0.1:1", want: "10.0.0.1"},
		{name: "garbage hop ends the walk: the peer", proxies: proxies, remote: "10.0.0.1:1",
			xff: []string{"198.51.100.1, unknown"}, want: "10.0.0.1"},
		{name: "garbage after an untrusted hop does not matter", proxies: proxies, remote: "10.0.0.1:1",
			xff: []string{"unknown, 198.51.100.1"}, want: "198.51.100.1"},
		{name: "ipv4-mapped peer", proxies: proxies, remote: "[::ffff:192.0.2.7]:443", want: "192.0.2.7"},
		{name: "ipv4-mapped trusted peer and hop", proxies: proxies, remote: "[::ffff:10.0.0.1]:443",
			xff: []string{"::ffff:198.51.100.1"}, want: "198.51.100.1"},
		{name: "ipv6 proxy", proxies: proxies, remote: "[fd00::1]:443", xff: []string{"2001:db8::7"}, want: "2001:db8::7"},
		{name: "unparsable RemoteAddr is returned as it is", proxies: proxies, remote: "pipe", want: "pipe"},
		{name: "no proxies configured", proxies: nil, remote: "10.0.0.1:1", xff: []string{"198.51.100.1"}, want: "10.0.0.1"},
		// Today only the first header line counts (issue 12 changes that).
		{name: "only the first header line is read", proxies: proxies, remote: "10.0.0.1:1",
			xff: []string{"198.51.100.1", "203.0.113.9"}, want: "198.51.100.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			for _, line := range tc.xff {
				r.Header.Add("X-Forwarded-For", line)
			}
			assert.Equal(t, tc.want, tc.proxies.ClientIP(r))
		})
	}
}
