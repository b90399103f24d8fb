package guestchat

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/store"
)

// Cookie names. The __Host- prefix makes browsers insist on Secure, Path=/
// and no Domain, so a sibling subdomain cannot plant or read the cookie.
// Plain HTTP (loopback only: tests, the demo) cannot use the prefix.
const (
	secureCookieName = "__Host-rathaus_guest"
	plainCookieName  = "rathaus_guest"
	csrfHeader       = "X-Rathaus-CSRF"
	tokenBytes       = 32 // 256 bits
	touchEvery       = time.Minute
)

// hashToken is what the database keeps of a session token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// csrfToken is derived from the session (by HMAC with a key derived from the
// appservice token), so it survives restarts and needs no storage of its
// own.
func (s *Server) csrfToken(tokenHash string) string {
	mac := hmac.New(sha256.New, s.csrfKey)
	mac.Write([]byte("csrf|" + tokenHash))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (s *Server) cookieName() string {
	if s.secure {
		return secureCookieName
	}
	return plainCookieName
}

func (s *Server) setCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: token, Path: "/", Expires: expires, MaxAge: int(time.Until(expires).Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

func (s *Server) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode})
}

// session returns the request's valid session, or nil.
func (s *Server) session(r *http.Request) (*store.GuestSession, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil || len(c.Value) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return nil, nil
	}
	gs, err := s.store.GetGuestSession(r.Context(), hashToken(c.Value))
	if err != nil || gs == nil {
		return nil, err
	}
	if time.Since(gs.LastSeen) > touchEvery {
		if err := s.store.TouchGuestSession(r.Context(), gs.TokenHash, time.Now().Add(s.cfg.SessionLifetime)); err != nil {
			zerolog.Ctx(r.Context()).Warn().Err(err).Msg("Failed to extend guest session")
		}
	}
	return gs, nil
}

// newSession makes a session and sets its cookie.
func (s *Server) newSession(ctx context.Context, w http.ResponseWriter) (*store.GuestSession, error) {
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	h := hashToken(token)
	expires := time.Now().Add(s.cfg.SessionLifetime)
	if err = s.store.CreateGuestSession(ctx, h, expires); err != nil {
		return nil, err
	}
	s.setCookie(w, token, expires)
	return &store.GuestSession{TokenHash: h, ExpiresAt: expires}, nil
}

// sameOrigin refuses requests a browser marks as coming from another
// site or origin. Requests without these headers (non-browser clients)
// pass; they still need the CSRF token.
func (s *Server) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" && !strings.EqualFold(o, s.origin) {
		return false
	} else if o == "null" {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// checkCSRF verifies the header token against the session.
func (s *Server) checkCSRF(r *http.Request, gs *store.GuestSession) bool {
	got := r.Header.Get(csrfHeader)
	want := s.csrfToken(gs.TokenHash)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// clientIP is the address rate limits count by: the peer, or for a trusted
// proxy the nearest untrusted address in X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap()
	if !s.trusted(addr) {
		return addr.String()
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
	}
	return addr.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
