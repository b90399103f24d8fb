package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the reverse proxies (addresses and CIDR ranges) whose
// X-Forwarded-For (or, if so configured, Forwarded) header is believed. A
// nil or empty set trusts nobody: the client is the peer of the
// connection.
type TrustedProxies struct {
	prefixes []netip.Prefix
	header   string // HeaderXForwardedFor or HeaderForwarded
}

// The headers a proxy may name the client in. Only the one the proxy in
// front of rathaus sets may be read: a proxy that sets one passes the
// other on as the client wrote it.
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded" // RFC 7239
)

// WithHeader returns the proxies reading header (HeaderXForwardedFor, the
// default, or HeaderForwarded; case does not matter) instead.
func (p *TrustedProxies) WithHeader(header string) (*TrustedProxies, error) {
	out := &TrustedProxies{}
	if p != nil {
		out.prefixes = p.prefixes
	}
	switch {
	case header == "" || strings.EqualFold(header, HeaderXForwardedFor):
		out.header = HeaderXForwardedFor
	case strings.EqualFold(header, HeaderForwarded):
		out.header = HeaderForwarded
	default:
		return nil, fmt.Errorf("%w: %q (want %s or %s)", ErrInvalidProxyHeader, header, HeaderXForwardedFor, HeaderForwarded)
	}
	return out, nil
}

// Header is the header the proxies' client addresses are read from.
func (p *TrustedProxies) Header() string {
	if p == nil || p.header == "" {
		return HeaderXForwardedFor
	}
	return p.header
}

// Empty reports whether no proxy is trusted.
func (p *TrustedProxies) Empty() bool { return p == nil || len(p.prefixes) == 0 }

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
// or, if the peer is a trusted proxy, the nearest address in the proxy
// header (all its lines, as one list) that is not a trusted proxy, walking
// from the nearest hop back. A hop that does not parse ends the walk and the peer (the
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
	var hops []string
	if p.Header() == HeaderForwarded {
		hops = forwarded(r.Header)
	} else {
		hops = forwardedFor(r.Header)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
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
// nearest proxy last. Repeated header lines are one list (RFC 9110,
// section 5.3): a proxy may append its hop as a line of its own.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, line := range h.Values(HeaderXForwardedFor) {
		for _, hop := range strings.Split(line, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	return hops
}

// forwarded is the chain of the Forwarded header (RFC 7239): the for=
// address of each element, all lines as one list, the client first. An
// element without for=, or with an obfuscated or unknown one, is an empty
// hop, which ends the walk.
func forwarded(h http.Header) []string {
	var hops []string
	for _, line := range h.Values(HeaderForwarded) {
		for _, element := range splitQuoted(line, ',') {
			hop := ""
			for _, pair := range splitQuoted(element, ';') {
				name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(name), "for") {
					continue
				}
				hop = forwardedNode(strings.TrimSpace(value))
			}
			hops = append(hops, hop)
		}
	}
	return hops
}

// forwardedNode is the address of a node value: 192.0.2.43,
// "192.0.2.43:47011", "[2001:db8:cafe::17]" or "[2001:db8:cafe::17]:4711".
// Anything else (unknown, _hidden) is "".
func forwardedNode(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = strings.ReplaceAll(v[1:len(v)-1], `\`, "")
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr().String()
	}
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		v = v[1 : len(v)-1]
	}
	if a, err := netip.ParseAddr(v); err == nil && (a.Is4() || strings.Contains(v, ":")) {
		return a.String()
	}
	return ""
}

// splitQuoted splits s at sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case c == '\\' && quoted:
			escaped = true
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
