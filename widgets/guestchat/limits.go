package guestchat

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/httpapi/ratelimit"
)

// streamRetryAfter is the Retry-After of a refused stream. A count of open
// streams has no refill time like a rate; the page backs off by itself and
// streams end all the time.
const streamRetryAfter = 10 * time.Second

// bounds limit what clients make the server hold: session rows and live
// streams, per address and for everyone together (issue 12, point 6).
type bounds struct {
	sessions *ratelimit.Set
	streams  *streamSlots
	metrics  *metrics
}

func newBounds(g config.GuestChatConfig, reg prometheus.Registerer) (*bounds, error) {
	sessions, err := newSessionLimits(g.RateLimits, nil)
	if err != nil {
		return nil, err
	}
	b := &bounds{sessions: sessions, streams: newStreamSlots(g.Streams)}
	b.metrics = newMetrics(reg, b.streams.len)
	return b, nil
}

// newSessionLimits are the rates of new sessions per address and for
// everyone; now is the clock (nil: time.Now).
func newSessionLimits(rl config.GuestRateLimits, now func() time.Time) (*ratelimit.Set, error) {
	return ratelimit.NewSet(
		ratelimit.Named{Name: limitSessionsPerAddress, Limiter: ratelimit.New(ratelimit.Options{
			Rate: float64(rl.SessionsPerHourPerAddress) / 3600, Burst: rl.SessionsPerHourPerAddress, Now: now})},
		ratelimit.Named{Name: limitSessionsGlobal, Limiter: ratelimit.New(ratelimit.Options{
			Rate: float64(rl.SessionsPerSecond), Burst: rl.SessionsPerSecond, Now: now})})
}

// admitSession decides whether r may create a session (a database row);
// nil if it may. Call it only when a session will be created.
func (s *Server) admitSession(r *http.Request) *httpapi.Error {
	ok, retry, which := s.bounds.sessions.Allow(map[string]string{
		limitSessionsPerAddress: ratelimit.IPKey(s.proxies.ClientIP(r), 0), limitSessionsGlobal: "all"})
	if ok {
		return nil
	}
	s.bounds.metrics.refused.WithLabelValues(which).Inc()
	return httpapi.RateLimited(retry)
}

// openStream takes a stream slot for the session's stream from r, or
// answers why not. A session over its own limit loses its oldest stream:
// a reload opens the new stream before the browser has closed the old
// one's connection, and the citizen should get the new one. Over the
// address's or the global limit, which other people's streams fill, the
// new stream is refused.
func (s *Server) openStream(r *http.Request, gs *Session) (*streamSlot, *httpapi.Error) {
	slot, replaced, refused := s.bounds.streams.acquire(gs.TokenHash, ratelimit.IPKey(s.proxies.ClientIP(r), 0))
	if refused != "" {
		s.bounds.metrics.refused.WithLabelValues(refused).Inc()
		return nil, httpapi.RateLimited(streamRetryAfter)
	}
	if replaced {
		s.bounds.metrics.streamsReplaced.Inc()
	}
	return slot, nil
}

// streamSlots counts the open live streams per session, per address and
// in total. It keeps address keys in memory only, like the rate limits.
type streamSlots struct {
	perSession, perAddress, total int

	mu        sync.Mutex
	bySession map[string][]*streamSlot // oldest first
	byAddress map[string]int
	open      int
}

// streamSlot is one open stream's place.
type streamSlot struct {
	owner            *streamSlots
	session, address string
	// replaced is closed when a newer stream of the session took this
	// one's place; the stream then ends.
	replaced chan struct{}
	released bool // guarded by owner.mu
}

func newStreamSlots(l config.GuestStreamLimits) *streamSlots {
	return &streamSlots{perSession: l.PerSession, perAddress: l.PerAddress, total: l.Total,
		bySession: map[string][]*streamSlot{}, byAddress: map[string]int{}}
}

// acquire takes a slot for a new stream of session from address. If the
// session holds its limit, its oldest stream is replaced (replaced true).
// If the address's or the global limit refuses, refused names it and
// nothing changes.
func (t *streamSlots) acquire(session, address string) (slot *streamSlot, replaced bool, refused string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var oldest *streamSlot
	if own := t.bySession[session]; len(own) >= t.perSession {
		oldest = own[0]
	}
	open, atAddress := t.open+1, t.byAddress[address]+1
	if oldest != nil {
		open--
		if oldest.address == address {
			atAddress--
		}
	}
	if atAddress > t.perAddress {
		return nil, false, limitStreamsPerAddress
	} else if open > t.total {
		return nil, false, limitStreamsTotal
	}
	if oldest != nil {
		t.remove(oldest)
		close(oldest.replaced)
	}
	slot = &streamSlot{owner: t, session: session, address: address, replaced: make(chan struct{})}
	t.bySession[session] = append(t.bySession[session], slot)
	t.byAddress[address]++
	t.open++
	return slot, oldest != nil, ""
}

// release gives the slot back when its stream ends; safe to call after it
// was replaced.
func (slot *streamSlot) release() {
	t := slot.owner
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remove(slot)
}

func (t *streamSlots) remove(slot *streamSlot) {
	if slot.released {
		return
	}
	slot.released = true
	if own := slices.DeleteFunc(t.bySession[slot.session], func(o *streamSlot) bool { return o == slot }); len(own) > 0 {
		t.bySession[slot.session] = own
	} else {
		delete(t.bySession, slot.session)
	}
	if t.byAddress[slot.address]--; t.byAddress[slot.address] <= 0 {
		delete(t.byAddress, slot.address)
	}
	t.open--
}

// len is the number of open streams.
func (t *streamSlots) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.open
}

// caselessSessionLifetime is how long the row of a session that has not
// opened a case lives after its last request. Most sessions made in bulk
// never open a case (that needs a proof of work), so their rows are pruned
// within hours instead of kept for session_lifetime.
const caselessSessionLifetime = time.Hour

// rowExpiry is when a session's row expires if it is used now. Only the
// row is short-lived: the cookie keeps session_lifetime, and a cookie
// whose row is gone is answered 401, after which the page starts a new
// session.
func (s *Server) rowExpiry(hasCase bool) time.Time {
	lifetime := s.config().GuestChat.SessionLifetime
	if !hasCase {
		lifetime = min(lifetime, caselessSessionLifetime)
	}
	return time.Now().Add(lifetime)
}

// keepSessionForCase gives the row of a session that has just opened its
// case the full session_lifetime, so the citizen can come back to the case
// even if they leave at once. If that fails, the session's next request
// does it.
func (s *Server) keepSessionForCase(ctx context.Context, gs *Session) {
	if err := s.sessions.TouchSession(ctx, gs.TokenHash, s.rowExpiry(true)); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to extend guest session for its case")
	}
}
