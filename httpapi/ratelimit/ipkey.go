package ratelimit

import (
	"net/netip"
	"strings"
)

// DefaultIPv6Prefix is the IPv6 prefix length IPKey groups by: one /64 is
// usually one household or device, which can pick any address inside it.
const DefaultIPv6Prefix = 64

// UnknownIPKey is the key IPKey returns for an address it cannot parse. All
// such requests share it, so they share one bucket.
const UnknownIPKey = "unknown"

// IPKey returns the per-address rate limit key for remoteAddr, which may be
// "host:port" (http.Request.RemoteAddr), "[v6]:port" or a bare address.
// IPv4 addresses (also IPv4-mapped IPv6) are kept whole; IPv6 addresses are
// cut to their first ipv6Prefix bits, so a client cannot escape its limit
// by rotating through its /64. An ipv6Prefix outside 1..128 means
// DefaultIPv6Prefix.
//
// The key still identifies a connection's origin: keep it in memory only,
// never log or store it.
func IPKey(remoteAddr string, ipv6Prefix int) string {
	addr, ok := parseAddr(remoteAddr)
	if !ok {
		return UnknownIPKey
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr.String()
	}
	if ipv6Prefix < 1 || ipv6Prefix > 128 {
		ipv6Prefix = DefaultIPv6Prefix
	}
	p, err := addr.Prefix(ipv6Prefix)
	if err != nil {
		return UnknownIPKey
	}
	return p.String()
}

func parseAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	addr, err := netip.ParseAddr(s)
	return addr, err == nil
}
