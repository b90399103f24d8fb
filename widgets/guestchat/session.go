package guestchat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/protocol"
)

// Cookie names. The __Host- prefix makes browsers insist on Secure, Path=/
// and no Domain, so a sibling subdomain cannot plant or read the cookie.
// Plain HTTP (loopback only: tests, the demo) cannot use the prefix.
const (
	secureCookieName = "__Host-rathaus_guest"
	plainCookieName  = "rathaus_guest"
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

// session returns the request's valid session, or nil. While the
// session's case is open it moves the expiry on (at most once a minute);
// once the case has ended it never does, and cuts the session to
// session_after_case_end after the end (caseEnded), with its cookie.
func (s *Server) session(w http.ResponseWriter, r *http.Request) (*Session, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil || len(c.Value) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return nil, nil
	}
	gs, err := s.sessions.Session(r.Context(), hashToken(c.Value))
	if err != nil || gs == nil {
		return nil, err
	}
	if gs.CaseID != "" {
		ended, ok, err := s.caseEnded(w, r, gs, c.Value)
		if err != nil || !ok {
			return nil, err
		} else if ended {
			return gs, nil
		}
	}
	if time.Since(gs.LastSeen) > touchEvery {
		if err := s.sessions.TouchSession(r.Context(), gs.TokenHash, s.rowExpiry(gs.CaseID != "")); err != nil {
			zerolog.Ctx(r.Context()).Warn().Err(err).Msg("Failed to extend guest session")
		}
	}
	return gs, nil
}

// newSession makes a session and sets its cookie.
func (s *Server) newSession(ctx context.Context, w http.ResponseWriter) (*Session, error) {
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	h := hashToken(token)
	expires := time.Now().Add(s.config().GuestChat.SessionLifetime)
	if err = s.sessions.CreateSession(ctx, h, s.rowExpiry(false)); err != nil {
		return nil, err
	}
	s.bounds.metrics.sessionsCreated.Inc()
	s.setCookie(w, token, expires)
	return &Session{TokenHash: h, LastSeen: time.Now(), ExpiresAt: expires}, nil
}

// authed returns the request's session if it may change state: a valid
// session (401 otherwise) and the CSRF token from the same origin (403).
func (s *Server) authed(w http.ResponseWriter, r *http.Request, state bool) *Session {
	gs, err := s.session(w, r)
	if err != nil {
		s.internal(w, r, err)
		return nil
	} else if gs == nil {
		httpapi.WriteError(w, errUnauthorized)
		return nil
	}
	if state && (!httpapi.SameOrigin(r, s.origin) || !s.csrf.Check(r, gs.TokenHash)) {
		httpapi.WriteError(w, errCSRF)
		return nil
	}
	return gs
}

// withCase resolves {id} to the session's own case: any other id is 404,
// whether it exists or not.
func (s *Server) withCase(state bool, next func(http.ResponseWriter, *http.Request, *Session, *cases.Case)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		gs := s.authed(w, r, state)
		if gs == nil {
			return
		}
		if gs.CaseID == "" || r.PathValue("id") != gs.CaseID.String() {
			httpapi.WriteError(w, httpapi.ErrNotFound)
			return
		}
		c, err := s.cases.Case(r.Context(), gs.CaseID)
		if err != nil {
			s.internal(w, r, err)
			return
		} else if c == nil || c.Status == protocol.CasePurged {
			httpapi.WriteError(w, httpapi.ErrNotFound)
			return
		}
		next(w, r, gs, c)
	}
}
