package turn

import (
	"net"
	"net/netip"
)

// Peers a relay must not reach unless the operator allows them: the
// machine itself, the authority's own networks, link-local (cloud
// metadata services at 169.254.169.254), and addresses that are not a
// single host. A TURN server open to the internet would otherwise be a
// door into the town hall's network.
var refused = []struct {
	category string
	prefixes []netip.Prefix
}{
	{"loopback", prefixes("127.0.0.0/8", "::1/128")},
	{"private", prefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")},
	{"shared", prefixes("100.64.0.0/10")},
	{"link-local", prefixes("169.254.0.0/16", "fe80::/10")},
	{"unspecified", prefixes("0.0.0.0/8", "::/128")},
	{"multicast", prefixes("224.0.0.0/4", "ff00::/8")},
	{"broadcast", prefixes("255.255.255.255/32")},
}

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// peerCategory says why a relay to ip is refused ("" if it is not),
// allow being the operator's exceptions. IPv4-mapped IPv6 addresses are
// judged as the IPv4 address they carry.
func peerCategory(ip net.IP, allow []netip.Prefix) string {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return "malformed"
	}
	addr = addr.Unmap()
	for _, p := range allow {
		if p.Contains(addr) {
			return ""
		}
	}
	for _, r := range refused {
		for _, p := range r.prefixes {
			if p.Contains(addr) {
				return r.category
			}
		}
	}
	return ""
}
