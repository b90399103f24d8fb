// Package guestchat serves the citizens' web chat: the page, its JSON API
// under /api/guest/v1/ and the live stream of a case (docs/guest-chat.md).
// It keeps its own sessions and asks the departments (Directory) and the
// cases (Cases) for everything else, through interfaces it declares
// (backend.go); internal/app wires them.
package guestchat

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/cases"
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
	// Config returns the running config. Its guest_chat section is read
	// at New for the listener's limits, proof of work and origin (it only
	// changes with a restart) and per request for the rest; retention is
	// read per request, so a reload reaches the page at once.
	Config func() *config.Config
	// Secret is a long-lived secret (the appservice token); the keys of
	// CSRF tokens and challenges are derived from it, so both survive a
	// restart.
	Secret    []byte
	Directory Directory
	Cases     Cases
	Sessions  Sessions
	// Spent remembers solved entry challenges.
	Spent pow.SpentStore
	// Video is the case's video call as the page sees it; nil turns video
	// off (no "Video starten", the video routes answer 404).
	Video Video
	// HandOvers verifies the contexts of OZG online services; nil turns
	// the hand-over page (/hilfe) off.
	HandOvers HandOvers
	Log       zerolog.Logger
	// Version is appended to asset URLs so browsers fetch new assets after
	// an upgrade.
	Version string
	// Registry receives the guest chat's metrics; nil: not registered.
	Registry prometheus.Registerer
}

// Server is the guest chat's HTTP handler.
type Server struct {
	config   func() *config.Config
	dir      Directory
	cases    Cases
	sessions Sessions
	// handOvers is nil without the hand-over.
	handOvers HandOvers
	video     Video
	log       zerolog.Logger
	// proxyWarned: the warning about an untrusted proxy was given.
	proxyWarned atomic.Bool
	version     string
	origin      string
	secure      bool
	proxies     *httpapi.TrustedProxies
	csrf        *httpapi.CSRF
	csp         string
	pow         *pow.Issuer
	hub         *hub
	mux         *http.ServeMux
	done        chan struct{}
	// frameOptions is the X-Frame-Options header, "" for none
	// (httpapi.CSP.FrameOptions).
	frameOptions string
	// unsubscribe ends following the cases' feed and the video calls.
	unsubscribe func()

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

	// bounds limit sessions and live streams; timeouts bound slow and
	// idle connections (limits.go, listener.go).
	bounds   *bounds
	timeouts listenerTimeouts
	// handOverLim bounds hand-over verifications per address: each
	// refusal is a log line.
	handOverLim *ratelimit.Limiter
}

// New checks the options and builds the handler.
func New(opts Options) (*Server, error) {
	if opts.Config == nil || opts.Directory == nil || opts.Cases == nil || opts.Sessions == nil || opts.Spent == nil {
		return nil, fmt.Errorf("%w: Config, Directory, Cases, Sessions and Spent", ErrMissingOption)
	} else if len(opts.Secret) < 16 {
		return nil, fmt.Errorf("%w: a Secret of at least 16 bytes", ErrMissingOption)
	}
	g := opts.Config().GuestChat
	if err := checkPrivacyPage(g.PrivacyPage); err != nil {
		return nil, err
	}
	origin, err := httpapi.ParseOrigin(g.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("guestchat: invalid public URL: %w", err)
	}
	s := &Server{config: opts.Config, dir: opts.Directory, cases: opts.Cases, sessions: opts.Sessions,
		handOvers: opts.HandOvers, video: opts.Video, log: opts.Log, version: opts.Version, origin: origin, secure: strings.HasPrefix(origin, "https://"),
		csp: pageCSP(g.EmbedOrigins, opts.Config().Video.MediaOrigins()).String(), hub: newHub(), done: make(chan struct{})}
	s.frameOptions = pageCSP(g.EmbedOrigins, nil).FrameOptions()
	if s.proxies, err = httpapi.ParseTrustedProxies(g.TrustedProxies); err != nil {
		return nil, fmt.Errorf("guestchat: failed to parse trusted proxies: %w", err)
	}
	if s.proxies, err = s.proxies.WithHeader(g.ClientIPHeader); err != nil {
		return nil, fmt.Errorf("guestchat: %w", err)
	}
	warnUntrustedProxy(opts.Log, g)
	if s.csrf, err = httpapi.NewCSRF(deriveKey(opts.Secret, "csrf")); err != nil {
		return nil, fmt.Errorf("guestchat: %w", err)
	}
	s.pow, err = pow.NewIssuer(pow.IssuerOptions{Key: deriveKey(opts.Secret, "pow"), Difficulty: g.PowDifficulty,
		TTL: 10 * time.Minute, Spent: opts.Spent})
	if err != nil {
		return nil, err
	}
	rl := g.RateLimits
	perMinute := func(n int) ratelimit.Options { return ratelimit.Options{Rate: float64(n) / 60, Burst: n} }
	s.sessionLim = ratelimit.New(perMinute(rl.MessagesPerMinute))
	s.addressLim = ratelimit.New(perMinute(rl.MessagesPerMinutePerAddress))
	s.globalLim = ratelimit.New(ratelimit.Options{Rate: float64(rl.MessagesPerSecond), Burst: rl.MessagesPerSecond})
	s.openLim = ratelimit.New(ratelimit.Options{Rate: float64(rl.CasesPerHourPerAddress) / 3600, Burst: rl.CasesPerHourPerAddress})
	s.challenges = ratelimit.New(perMinute(30))
	s.handOverLim = ratelimit.New(perMinute(30))
	s.signals = ratelimit.New(ratelimit.Options{Rate: 2, Burst: 10})
	s.messages, err = ratelimit.NewSet(
		ratelimit.Named{Name: "session", Limiter: s.sessionLim},
		ratelimit.Named{Name: "address", Limiter: s.addressLim},
		ratelimit.Named{Name: "global", Limiter: s.globalLim})
	if err != nil {
		return nil, err
	}
	if s.bounds, err = newBounds(g, opts.Registry); err != nil {
		return nil, err
	}
	s.timeouts = newListenerTimeouts(g)
	s.routes()
	s.handler = s.withBodyDeadline(s.handler)
	unsubCases := opts.Cases.Subscribe(s.caseUpdated)
	unsubVideo := func() {}
	if s.video != nil {
		unsubVideo = s.video.WatchCitizens(s.hub.videoChanged)
	}
	s.unsubscribe = func() { unsubCases(); unsubVideo() }
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
	s.noteProxyHeaders(r)
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Security-Policy", s.csp)
	if s.frameOptions != "" {
		h.Set("X-Frame-Options", s.frameOptions)
	}
	s.dispatch(w, r)
}

// pageCSP is the page's Content-Security-Policy: only its own scripts,
// styles and API (and the media server's origins, when calls run on
// LiveKit); frame-ancestors lists the configured embedding origins.
func pageCSP(embedOrigins, mediaOrigins []string) httpapi.CSP {
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
		httpapi.ConnectSrc:     append([]string{httpapi.SourceSelf}, mediaOrigins...),
		httpapi.WorkerSrc:      self,
		httpapi.FormAction:     self,
		httpapi.BaseURI:        {httpapi.SourceNone},
		httpapi.FrameAncestors: ancestors,
	}
}

// mediaCSP is the policy of a downloaded file: it may do nothing, even if a
// browser renders it.
var mediaCSP = httpapi.CSP{httpapi.DefaultSrc: {httpapi.SourceNone}, httpapi.Sandbox: nil}.String()

// caseUpdated passes a case's update from the cases' feed to its live
// streams: a new or changed timeline row wakes them, staff typing and read
// markers are kept for them.
func (s *Server) caseUpdated(u cases.Update) {
	switch u.Kind {
	case cases.TimelineChanged:
		s.hub.notify(u.Case)
	case cases.StaffTyping:
		s.hub.setTyping(u.Case, u.TypingUntil)
	case cases.StaffRead:
		s.hub.setRead(u.Case, u.ReadSeq)
	}
}

// Close stops following the cases and ends every live stream (they never
// become idle, so a server shutdown would otherwise wait for them). The
// page reconnects.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.unsubscribe()
		close(s.done)
	})
}
