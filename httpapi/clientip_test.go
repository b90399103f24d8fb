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
		// A proxy that appends its own header line (HAProxy option
		// forwardfor): the lines are one list, so the client's forged
		// first line does not win (issue 12, point 3).
		{name: "every header line is read", proxies: proxies, remote: "10.0.0.1:1",
			xff: []string{"198.51.100.1", "203.0.113.9"}, want: "203.0.113.9"},
		{name: "lines and entries from the right", proxies: proxies, remote: "10.0.0.1:1",
			xff: []string{"1.2.3.4, 5.6.7.8", "203.0.113.9, 10.0.0.7", "10.0.0.5"}, want: "203.0.113.9"},
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

func TestClientIPForwarded(t *testing.T) {
	base, err := httpapi.ParseTrustedProxies([]string{"10.0.0.0/8", "fd00::/8"})
	require.NoError(t, err)
	proxies, err := base.WithHeader("forwarded")
	require.NoError(t, err)
	assert.Equal(t, httpapi.HeaderForwarded, proxies.Header())
	assert.Equal(t, httpapi.HeaderXForwardedFor, base.Header(), "the default")
	_, err = base.WithHeader("X-Real-IP")
	require.ErrorIs(t, err, httpapi.ErrInvalidProxyHeader)

	tests := []struct {
		name  string
		lines []string
		xff   string
		want  string
	}{
		{name: "one element", lines: []string{"for=198.51.100.1;proto=https;by=10.0.0.1"}, want: "198.51.100.1"},
		{name: "case and spaces", lines: []string{"For = 198.51.100.1 ; Proto=https"}, want: "198.51.100.1"},
		{name: "ipv4 with port, quoted", lines: []string{`for="198.51.100.1:47011"`}, want: "198.51.100.1"},
		{name: "ipv6 with port", lines: []string{`for="[2001:db8:cafe::17]:4711"`}, want: "2001:db8:cafe::17"},
		{name: "ipv6 without port", lines: []string{`for="[2001:db8:cafe::17]"`}, want: "2001:db8:cafe::17"},
		{name: "from the right, across lines", lines: []string{"for=1.2.3.4, for=203.0.113.9", "for=10.0.0.9"}, want: "203.0.113.9"},
		{name: "a forged first line does not win", lines: []string{"for=1.2.3.4", "for=203.0.113.9"}, want: "203.0.113.9"},
		{name: "quoted separators stay inside", lines: []string{`for=203.0.113.9;ext="a,b;c", for=10.0.0.2`}, want: "203.0.113.9"},
		{name: "obfuscated hop ends the walk", lines: []string{"for=203.0.113.9, for=_hidden"}, want: "10.0.0.1"},
		{name: "unknown hop ends the walk", lines: []string{"for=unknown"}, want: "10.0.0.1"},
		{name: "element without for ends the walk", lines: []string{"for=203.0.113.9, proto=https"}, want: "10.0.0.1"},
		{name: "X-Forwarded-For is not read", xff: "203.0.113.9", want: "10.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
			r.RemoteAddr = "10.0.0.1:1"
			for _, line := range tc.lines {
				r.Header.Add("Forwarded", line)
			}
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			assert.Equal(t, tc.want, proxies.ClientIP(r))
		})
	}
	// With the default header, Forwarded is what the client wrote.
	r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("Forwarded", "for=1.2.3.4")
	assert.Equal(t, "10.0.0.1", base.ClientIP(r))
}
