package widgetauth

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
)

// Defaults of Options.
const (
	DefaultSessionTTL         = 10 * time.Minute
	DefaultRecheckTTL         = 3 * time.Second
	DefaultMaxSessions        = 10_000
	DefaultMaxSessionsPerUser = 20
	DefaultSignInsPerMinute   = 20
)

// Bounds of Options: a session is short-lived, and a removed caseworker
// loses access within seconds.
const (
	MaxSessionTTL = time.Hour
	MaxRecheckTTL = 10 * time.Second
)

// Options configure New.
type Options struct {
	// Widget names the widget in log lines ("ticket", "video").
	Widget string
	// Verifier checks OpenID tokens (*openid.Verifier). Required.
	Verifier Verifier
	// Rooms reports membership and power levels (the bot's view). Required.
	Rooms Rooms
	// IsAppserviceUser reports whether a user id is one of rathaus's own
	// (the bot, citizen ghosts @_rathaus_guest_…): they never sign in to a
	// widget, whatever their membership. Required.
	IsAppserviceUser func(id.UserID) bool
	// Policy decides who may sign in and, unless an action names its own
	// (RequireWith), who may act: AnyMember, MinPowerLevel(50), AnyOf(…) or
	// the widget's own. Required: a widget states its rule.
	Policy Policy
	// SessionTTL is a session's lifetime, not extended by use.
	// Default DefaultSessionTTL, at most MaxSessionTTL.
	SessionTTL time.Duration
	// RecheckTTL is how long a membership answer is reused before an
	// action asks Rooms again. Default DefaultRecheckTTL, at most
	// MaxRecheckTTL; negative asks at every action.
	RecheckTTL time.Duration
	// MaxSessions caps the session table; MaxSessionsPerUser caps one
	// user's sessions (a widget opened in many tabs). When a cap is
	// reached the oldest session ends (its widget signs in again).
	// Defaults DefaultMaxSessions and DefaultMaxSessionsPerUser.
	MaxSessions        int
	MaxSessionsPerUser int
	// SignInsPerMinute limits sign-ins per client address (each costs a
	// federation request). Default DefaultSignInsPerMinute.
	SignInsPerMinute int
	// Proxies are the reverse proxies whose forwarding header names the
	// client address. Nil trusts none.
	Proxies *httpapi.TrustedProxies
	// Log receives refusals (info) and failures (warn, error); never a
	// token.
	Log zerolog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Auth is a widget's sign-in and its guard of actions. It is safe for
// concurrent use.
type Auth struct {
	widget     string
	verifier   Verifier
	rooms      Rooms
	isAS       func(id.UserID) bool
	policy     Policy
	ttl        time.Duration
	proxies    *httpapi.TrustedProxies
	log        zerolog.Logger
	now        func() time.Time
	sessions   *sessions
	members    *memberCache
	signInRate *ratelimit.Limiter

	pruneMu   sync.Mutex
	lastPrune time.Time
}

// New checks opts and builds an Auth.
func New(opts Options) (*Auth, error) {
	var errs []error
	if opts.Verifier == nil || opts.Rooms == nil || opts.IsAppserviceUser == nil || opts.Policy == nil {
		errs = append(errs, errors.New("Verifier, Rooms, IsAppserviceUser and Policy are required"))
	}
	if opts.SessionTTL < 0 || opts.SessionTTL > MaxSessionTTL {
		errs = append(errs, fmt.Errorf("SessionTTL must be between 0 (default) and %s", MaxSessionTTL))
	}
	if opts.RecheckTTL > MaxRecheckTTL {
		errs = append(errs, fmt.Errorf("RecheckTTL must be at most %s", MaxRecheckTTL))
	}
	if opts.MaxSessions < 0 || opts.MaxSessionsPerUser < 0 || opts.SignInsPerMinute < 0 {
		errs = append(errs, errors.New("MaxSessions, MaxSessionsPerUser and SignInsPerMinute must not be negative"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrMissingOption, errors.Join(errs...))
	}
	a := &Auth{widget: opts.Widget, verifier: opts.Verifier, rooms: opts.Rooms, isAS: opts.IsAppserviceUser,
		policy: opts.Policy, ttl: orDefault(opts.SessionTTL, DefaultSessionTTL), proxies: opts.Proxies,
		now: opts.Now}
	if a.now == nil {
		a.now = time.Now
	}
	a.log = opts.Log.With().Str("widget", opts.Widget).Logger()
	a.sessions = newSessions(orDefault(opts.MaxSessions, DefaultMaxSessions),
		orDefault(opts.MaxSessionsPerUser, DefaultMaxSessionsPerUser), a.now)
	recheck := orDefault(opts.RecheckTTL, DefaultRecheckTTL)
	a.members = newMemberCache(recheck, DefaultMaxSessions, a.now)
	perMinute := orDefault(opts.SignInsPerMinute, DefaultSignInsPerMinute)
	a.signInRate = ratelimit.New(ratelimit.Options{Rate: float64(perMinute) / 60, Burst: perMinute, Now: a.now})
	return a, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Forget drops what is cached about user in room, so the next action asks
// the homeserver. internal/app calls it when the bot sees the user's
// membership or the room's power levels change; without it a change takes
// effect within Options.RecheckTTL.
func (a *Auth) Forget(room id.RoomID, user id.UserID) { a.members.forget(room, user) }

// Sessions returns the number of sessions held (for metrics and tests).
func (a *Auth) Sessions() int { return a.sessions.len() }

// maybePrune drops expired sessions at most once a minute, so a quiet
// table does not keep them until the cap is reached.
func (a *Auth) maybePrune() {
	a.pruneMu.Lock()
	now := a.now()
	due := now.Sub(a.lastPrune) >= time.Minute
	if due {
		a.lastPrune = now
	}
	a.pruneMu.Unlock()
	if due {
		a.sessions.prune()
	}
}
