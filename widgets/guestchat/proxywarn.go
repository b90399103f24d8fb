package guestchat

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/config"
)

// untrustedProxyWarning is said when the chat seems to sit behind a proxy
// it does not trust. Behind such a proxy every citizen has the proxy's
// address, so the limits per address are shared by all: one person can
// use up the case quota of a whole city.
const untrustedProxyWarning = "The guest chat seems to sit behind a reverse proxy that is not in guest_chat.trusted_proxies: " +
	"every citizen then counts as the proxy's address, and one person can use up the case quota of all. " +
	"Set guest_chat.trusted_proxies to the proxy's address (and guest_chat.client_ip_header to the header it sets)"

// warnUntrustedProxy warns at start when citizens reach the chat over
// https:// but no proxy is trusted: rathaus serves plain HTTP, so something
// in front terminates TLS.
func warnUntrustedProxy(log zerolog.Logger, g config.GuestChatConfig) {
	if len(g.TrustedProxies) > 0 || !strings.HasPrefix(g.PublicURL, "https://") {
		return
	}
	log.Warn().Str("public_url", g.PublicURL).Str("listen", g.Listen).Msg(untrustedProxyWarning)
}

// noteProxyHeaders warns once when a request carries X-Forwarded-For or
// Forwarded from a peer that is not a trusted proxy: a proxy in front
// that nobody listed. The peer's address is not logged (it may be a
// citizen's).
func (s *Server) noteProxyHeaders(r *http.Request) {
	if s.proxyWarned.Load() || (r.Header.Get("X-Forwarded-For") == "" && r.Header.Get("Forwarded") == "") {
		return
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || s.proxies.Trusted(peer.Addr().Unmap()) {
		return
	}
	if s.proxyWarned.CompareAndSwap(false, true) {
		s.log.Warn().Msg(untrustedProxyWarning)
	}
}
