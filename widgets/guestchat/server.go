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
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
	"github.com/rathaus-de/rathaus/widgets/guestchat/pow"
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
	proxies   []netip.Prefix
	csrfKey   []byte
	pow       *pow.Issuer
	hub       *hub
	mux       *http.ServeMux
	done      chan struct{}

	assetETags   map[string]string
	assetVersion string
	closeOnce    sync.Once
	handler      http.Handler

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
	u, err := url.Parse(opts.Config.PublicURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("guestchat: invalid public URL %q", opts.Config.PublicURL)
	}
	s := &Server{cfg: opts.Config, retention: opts.Retention, backend: opts.Backend, store: opts.Store,
		log: opts.Log, version: opts.Version, origin: u.Scheme + "://" + u.Host, secure: u.Scheme == "https",
		csrfKey: deriveKey(opts.Secret, "csrf"), hub: newHub(), done: make(chan struct{})}
	for _, p := range opts.Config.TrustedProxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, err := netip.ParseAddr(p)
			if err != nil {
				return nil, fmt.Errorf("guestchat: trusted proxy %q: %w", p, err)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		s.proxies = append(s.proxies, prefix)
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

func (s *Server) routes() {
	m := http.NewServeMux()
	a := APIPrefix
	m.HandleFunc("GET "+a+"session", s.getSession)
	m.HandleFunc("POST "+a+"session", s.postSession)
	m.HandleFunc("GET "+a+"info", s.info)
	m.HandleFunc("POST "+a+"challenge", s.challenge)
	m.HandleFunc("POST "+a+"cases", s.openCase)
	m.HandleFunc("GET "+a+"cases/{id}", s.withCase(false, s.getCase))
	m.HandleFunc("GET "+a+"cases/{id}/events", s.withCase(false, s.stream))
	m.HandleFunc("POST "+a+"cases/{id}/messages", s.withCase(true, s.sendMessage))
	m.HandleFunc("POST "+a+"cases/{id}/attachments", s.withCase(true, s.sendAttachment))
	m.HandleFunc("GET "+a+"cases/{id}/media/{seq}", s.withCase(false, s.media))
	m.HandleFunc("GET "+a+"cases/{id}/transcript", s.withCase(false, s.transcript))
	m.HandleFunc("POST "+a+"cases/{id}/typing", s.withCase(true, s.typing))
	m.HandleFunc("POST "+a+"cases/{id}/read", s.withCase(true, s.read))
	m.HandleFunc("POST "+a+"cases/{id}/alive", s.withCase(true, s.alive))
	m.HandleFunc("POST "+a+"cases/{id}/close", s.withCase(true, s.closeCase))
	m.HandleFunc(a, func(w http.ResponseWriter, r *http.Request) { writeError(w, errNotFound) })
	s.pageRoutes(m)
	s.mux = m
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r.WithContext(s.log.WithContext(r.Context())))
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Security-Policy", s.csp())
	s.mux.ServeHTTP(w, r)
}

// csp is the page's Content-Security-Policy; frame-ancestors lists the
// configured embedding origins.
func (s *Server) csp() string {
	ancestors := "'none'"
	if len(s.cfg.EmbedOrigins) > 0 {
		ancestors = ""
		for i, o := range s.cfg.EmbedOrigins {
			if i > 0 {
				ancestors += " "
			}
			ancestors += o
		}
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
		"worker-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors " + ancestors
}

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
