// Package guestchat serves the citizens' web chat: the page, its JSON API
// under /api/guest/v1/ and the live stream of a case (docs/guest-chat.md).
// It knows the database and a Backend for everything that acts in Matrix;
// it never imports the bridge.
package guestchat

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
	"github.com/rathaus-de/rathaus/widgets/guestchat/pow"
	"github.com/rathaus-de/rathaus/widgets/internal/webkit"
)

// APIPrefix is where the JSON API lives.
const APIPrefix = "/api/guest/v1/"

// powPurpose is the proof-of-work purpose of opening a case.
const powPurpose = "guestchat.open"

// Options configure New.
type Options struct {
	Config    config.GuestChatConfig
	Retention config.RetentionConfig
	// Secret is a long-lived secret (the appservice token); the keys of
	// CSRF tokens and challenges are derived from it, so both survive a
	// restart.
	Secret  []byte
	Backend Backend
	Store   Store
	Log     zerolog.Logger
	// Version is appended to asset URLs so browsers fetch new assets after
	// an upgrade.
	Version string
}

// Server is the guest chat's HTTP handler.
type Server struct {
	cfg       config.GuestChatConfig
	retention config.RetentionConfig
	backend   Backend
	store     Store
	log       zerolog.Logger
	version   string
	origin    string
	secure    bool
	proxies   *httpapi.TrustedProxies
	csrf      *httpapi.CSRF
	csp       string
	pow       *pow.Issuer
	hub       *hub
	mux       *http.ServeMux
	done      chan struct{}

	assets    *webkit.AssetServer
	closeOnce sync.Once
	handler   http.Handler

	messages   *ratelimit.Set
	sessionLim *ratelimit.Limiter
	addressLim *ratelimit.Limiter
	globalLim  *ratelimit.Limiter
	openLim    *ratelimit.Limiter
	challenges *ratelimit.Limiter
	signals    *ratelimit.Limiter
}

// New checks the options and builds the handler.
func New(opts Options) (*Server, error) {
	if opts.Backend == nil || opts.Store == nil || len(opts.Secret) < 16 {
		return nil, errors.New("guestchat: Backend, Store and a Secret of at least 16 bytes are required")
	}
	origin, err := httpapi.ParseOrigin(opts.Config.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("guestchat: invalid public URL: %w", err)
	}
	s := &Server{cfg: opts.Config, retention: opts.Retention, backend: opts.Backend, store: opts.Store,
		log: opts.Log, version: opts.Version, origin: origin, secure: strings.HasPrefix(origin, "https://"),
		csp: pageCSP(opts.Config.EmbedOrigins), hub: newHub(), done: make(chan struct{})}
	if s.proxies, err = httpapi.ParseTrustedProxies(opts.Config.TrustedProxies); err != nil {
		return nil, fmt.Errorf("guestchat: failed to parse trusted proxies: %w", err)
	}
	if s.csrf, err = httpapi.NewCSRF(deriveKey(opts.Secret, "csrf")); err != nil {
		return nil, fmt.Errorf("guestchat: %w", err)
	}
	s.pow, err = pow.NewIssuer(pow.IssuerOptions{Key: deriveKey(opts.Secret, "pow"), Difficulty: opts.Config.PowDifficulty,
		TTL: 10 * time.Minute, Spent: opts.Store})
	if err != nil {
		return nil, err
	}
	rl := opts.Config.RateLimits
	perMinute := func(n int) ratelimit.Options { return ratelimit.Options{Rate: float64(n) / 60, Burst: n} }
	s.sessionLim = ratelimit.New(perMinute(rl.MessagesPerMinute))
	s.addressLim = ratelimit.New(perMinute(rl.MessagesPerMinutePerAddress))
	s.globalLim = ratelimit.New(ratelimit.Options{Rate: float64(rl.MessagesPerSecond), Burst: rl.MessagesPerSecond})
	s.openLim = ratelimit.New(ratelimit.Options{Rate: float64(rl.CasesPerHourPerAddress) / 3600, Burst: rl.CasesPerHourPerAddress})
	s.challenges = ratelimit.New(perMinute(30))
	s.signals = ratelimit.New(ratelimit.Options{Rate: 2, Burst: 10})
	s.messages, err = ratelimit.NewSet(
		ratelimit.Named{Name: "session", Limiter: s.sessionLim},
		ratelimit.Named{Name: "address", Limiter: s.addressLim},
		ratelimit.Named{Name: "global", Limiter: s.globalLim})
	if err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// deriveKey makes a key for one purpose from the long-lived secret.
func deriveKey(secret []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("rathaus guestchat key|" + purpose))
	return mac.Sum(nil)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Security-Policy", s.csp)
	s.mux.ServeHTTP(w, r)
}

// pageCSP is the page's Content-Security-Policy: only its own scripts,
// styles and API; frame-ancestors lists the configured embedding origins.
func pageCSP(embedOrigins []string) string {
	ancestors := embedOrigins
	if len(ancestors) == 0 {
		ancestors = []string{httpapi.SourceNone}
	}
	self := []string{httpapi.SourceSelf}
	return httpapi.CSP{
		httpapi.DefaultSrc:     {httpapi.SourceNone},
		httpapi.ScriptSrc:      self,
		httpapi.StyleSrc:       self,
		httpapi.ImgSrc:         {httpapi.SourceSelf, "blob:"},
		httpapi.ConnectSrc:     self,
		httpapi.WorkerSrc:      self,
		httpapi.FormAction:     self,
		httpapi.BaseURI:        {httpapi.SourceNone},
		httpapi.FrameAncestors: ancestors,
	}.String()
}

// mediaCSP is the policy of a downloaded file: it may do nothing, even if a
// browser renders it.
var mediaCSP = httpapi.CSP{httpapi.DefaultSrc: {httpapi.SourceNone}, httpapi.Sandbox: nil}.String()

// Notify wakes the live streams of a case: a new timeline row was stored.
func (s *Server) Notify(caseID string) { s.hub.notify(caseID) }

// StaffTyping records that staff are typing in a case until `until` (zero
// or past: not typing).
func (s *Server) StaffTyping(caseID string, until time.Time) { s.hub.setTyping(caseID, until) }

// StaffRead records that staff have read a case up to a timeline row.
func (s *Server) StaffRead(caseID string, seq int64) { s.hub.setRead(caseID, seq) }

// Close ends every live stream (they never become idle, so a server
// shutdown would otherwise wait for them). The page reconnects.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.done) }) }
