package ratelimit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
)

func TestIPKey(t *testing.T) {
	tests := []struct {
		name   string
		addr   string
		prefix int
		want   string
	}{
		{name: "ipv4 with port", addr: "192.0.2.7:51234", prefix: 64, want: "192.0.2.7"},
		{name: "ipv4 bare", addr: "192.0.2.7", prefix: 64, want: "192.0.2.7"},
		{name: "ipv4 ignores prefix", addr: "192.0.2.7:1", prefix: 8, want: "192.0.2.7"},
		{name: "ipv4-mapped ipv6 is ipv4", addr: "[::ffff:192.0.2.7]:443", prefix: 64, want: "192.0.2.7"},
		{name: "ipv6 with port", addr: "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", prefix: 64, want: "2001:db8:1:2::/64"},
		{name: "ipv6 same /64", addr: "[2001:db8:1:2::1]:9", prefix: 64, want: "2001:db8:1:2::/64"},
		{name: "ipv6 other /64", addr: "[2001:db8:1:3::1]:9", prefix: 64, want: "2001:db8:1:3::/64"},
		{name: "ipv6 bare", addr: "2001:db8:1:2::1", prefix: 64, want: "2001:db8:1:2::/64"},
		{name: "ipv6 in brackets without port", addr: "[2001:db8:1:2::1]", prefix: 64, want: "2001:db8:1:2::/64"},
		{name: "ipv6 /56", addr: "[2001:db8:1:2ff::1]:9", prefix: 56, want: "2001:db8:1:200::/56"},
		{name: "ipv6 /128", addr: "[2001:db8::1]:9", prefix: 128, want: "2001:db8::1/128"},
		{name: "ipv6 zone dropped", addr: "[fe80::1%eth0]:9", prefix: 64, want: "fe80::/64"},
		{name: "prefix 0 means 64", addr: "[2001:db8:1:2::1]:9", prefix: 0, want: "2001:db8:1:2::/64"},
		{name: "prefix out of range means 64", addr: "[2001:db8:1:2::1]:9", prefix: 129, want: "2001:db8:1:2::/64"},
		{name: "negative prefix means 64", addr: "[2001:db8:1:2::1]:9", prefix: -1, want: "2001:db8:1:2::/64"},
		{name: "loopback", addr: "[::1]:80", prefix: 64, want: "::/64"},
		{name: "empty", addr: "", prefix: 64, want: ratelimit.UnknownIPKey},
		{name: "hostname", addr: "example.org:80", prefix: 64, want: ratelimit.UnknownIPKey},
		{name: "garbage", addr: "[[::1]]:x", prefix: 64, want: ratelimit.UnknownIPKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ratelimit.IPKey(tc.addr, tc.prefix))
		})
	}
}
