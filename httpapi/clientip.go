package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the reverse proxies (addresses and CIDR ranges) whose
// X-Forwarded-For header is believed. A nil or empty set trusts nobody: the
// client is the peer of the connection.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// ParseTrustedProxies parses the configured proxies: addresses ("10.0.0.1",
// "::1") and CIDR ranges ("10.0.0.0/8"). Every entry that is neither is
// reported with its value, each wrapping ErrInvalidTrustedProxy.
func ParseTrustedProxies(entries []string) (*TrustedProxies, error) {
	p := &TrustedProxies{}
	var problems []error
	for _, e := range entries {
		prefix, err := netip.ParsePrefix(e)
		if err != nil {
			addr, addrErr := netip.ParseAddr(e)
			if addrErr != nil {
				problems = append(problems, fmt.Errorf("%w %q: not an address or CIDR range", ErrInvalidTrustedProxy, e))
				continue
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		p.prefixes = append(p.prefixes, prefix)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return p, nil
}

// Trusted reports whether a is one of the proxies.
func (p *TrustedProxies) Trusted(a netip.Addr) bool {
	if p == nil {
		return false
	}
	for _, prefix := range p.prefixes {
		if prefix.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP is the address a request comes from, for rate limits: the peer,
// or, if the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not a trusted proxy, walking from the nearest
// hop back. A hop that does not parse ends the walk and the peer (the
// proxy) counts, as it does when every hop is a trusted proxy. If
// RemoteAddr itself does not parse, it is returned as it is.
//
// The address identifies a person: keep it in memory, never log or store
// it (ratelimit.IPKey turns it into a key).
func (p *TrustedProxies) ClientIP(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap()
	if !p.Trusted(addr) {
		return addr.String()
	}
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !p.Trusted(a) {
			return a.String()
		}
	}
	return addr.String()
}

// forwardedFor is the X-Forwarded-For chain, the client first and the
// nearest proxy last. It is the one place that reads the header.
//
// TODO: only the first X-Forwarded-For header line is read, so a proxy that
// appends its hop as a second line (allowed by RFC 9110, which treats
// repeated lines as one comma-separated list) is not seen; issue 12 joins
// all lines here.
func forwardedFor(h http.Header) []string {
	return strings.Split(h.Get("X-Forwarded-For"), ",")
}
