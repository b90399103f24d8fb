package netguard

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRefusedReason(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1",
		"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.178.1", "fd00::1", "fc12::1",
		"169.254.169.254", "fe80::1",
		"0.0.0.0", "::", "0.1.2.3",
		"224.0.0.1", "239.255.255.250", "ff02::1", "ff05::2",
		"100.64.0.1", "100.127.255.254",
		"255.255.255.255", "240.0.0.1", "198.18.0.1", "192.0.2.1",
		"64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:a00:1::1", "2002:7f00:1::1",
		"::ffff:10.0.0.1", "::ffff:100.64.0.1",
	}
	for _, s := range refused {
		assert.NotEmpty(t, RefusedReason(netip.MustParseAddr(s)), "%s must be refused", s)
	}
	public := []string{
		"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.32.0.1", "193.0.2.1",
		"2001:4860:4860::8888", "2a01:4f8::1", "64:ff9b::808:808", "2002:808:808::1",
		"::ffff:8.8.8.8",
	}
	for _, s := range public {
		assert.Empty(t, RefusedReason(netip.MustParseAddr(s)), "%s must be allowed", s)
	}
}

func TestAllowNetworks(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.20.0.0/16")}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"10.20.1.2", true},
		{"10.21.1.2", false},
		{"::1", false}, // not listed
		{"192.168.1.1", false},
		{"8.8.8.8", true},
	} {
		ok, _ := Allowed(netip.MustParseAddr(tc.addr), allow)
		assert.Equal(t, tc.ok, ok, tc.addr)
	}
}
