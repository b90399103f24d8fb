// Package netguard decides which addresses rathaus may connect to on
// someone else's behalf: a homeserver named in an OpenID check, a webhook
// receiver named in the config. Loopback, private, link-local, shared,
// reserved and multicast addresses are refused, also when an IPv6 address
// carries one of them (NAT64, 6to4), unless an operator allowed a prefix.
// Dialers check at connect time, after DNS, so a name cannot resolve to a
// safe address when checked and an internal one when dialled.
package netguard

import "net/netip"

// reservedPrefixes are ranges that netip's predicates do not cover and that
// a homeserver on the public internet never uses. Loopback, RFC 1918 and
// ULA (IsPrivate), link-local, unspecified and multicast are checked by
// predicate in RefusedReason.
var reservedPrefixes = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this network (RFC 791)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (RFC 6598)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (RFC 6890)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation (RFC 5737)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation (RFC 5737)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved or broadcast (RFC 1112)"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated, RFC 3879)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation (RFC 3849)"},
	{netip.MustParsePrefix("100::/64"), "discard-only (RFC 6666)"},
}

// Prefixes whose IPv6 addresses carry an IPv4 address; that address is
// checked too, so 64:ff9b::7f00:1 is not a way around a loopback refusal.
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// RefusedReason says why rathaus must not connect to addr, or returns ""
// for an ordinary public unicast address. It knows nothing of allowed
// prefixes (see Allowed).
func RefusedReason(addr netip.Addr) string {
	addr = addr.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	switch {
	case !addr.IsValid():
		return "invalid"
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate():
		return "private (RFC 1918 / ULA)"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "link-local"
	case addr.IsUnspecified():
		return "unspecified"
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return "multicast"
	}
	for _, r := range reservedPrefixes {
		if r.prefix.Contains(addr) {
			return r.reason
		}
	}
	if addr.Is6() {
		b := addr.As16()
		var embedded netip.Addr
		switch {
		case nat64Prefix.Contains(addr):
			embedded = netip.AddrFrom4([4]byte(b[12:16]))
		case sixToFour.Contains(addr):
			embedded = netip.AddrFrom4([4]byte(b[2:6]))
		}
		if embedded.IsValid() {
			if reason := RefusedReason(embedded); reason != "" {
				return reason + " (embedded in IPv6)"
			}
		}
	}
	return ""
}

// Allowed reports whether a dialer may connect to addr: a public address,
// or one inside a prefix the operator allowed.
func Allowed(addr netip.Addr, allow []netip.Prefix) (ok bool, reason string) {
	addr = addr.Unmap()
	reason = RefusedReason(addr)
	if reason == "" {
		return true, ""
	}
	for _, p := range allow {
		if p.Contains(addr) {
			return true, ""
		}
	}
	return false, reason
}
