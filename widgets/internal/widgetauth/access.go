package widgetauth

import (
	"context"
	"sync"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Verifier checks an OpenID token at its homeserver. *openid.Verifier
// satisfies it.
type Verifier interface {
	// Verify is called once per sign-in with the server name and token the
	// widget posted. It returns the user the token belongs to, always a
	// user of serverName, or an error wrapping the sentinels of
	// appservice/openid.
	Verify(ctx context.Context, serverName, accessToken string) (id.UserID, error)
}

// Member is what the room's homeserver says about a user in a room.
type Member struct {
	// Membership is the user's m.room.member membership, "" if the room
	// has none for the user.
	Membership event.Membership
	// PowerLevel is the user's level in m.room.power_levels (users_default
	// if not listed; math.MaxInt for a creator of a room version with
	// creator power).
	PowerLevel int
}

// Rooms answers membership questions about a room. In production it is the
// bot's view of the room (internal/app); tests use ClientRooms with a real
// homeserver.
type Rooms interface {
	// Member is called at sign-in and, at most once per Options.RecheckTTL
	// per room and user, before an action. It returns the user's current
	// membership and power level, a zero Member if the user was never in
	// the room, or an error if the homeserver could not be asked (the
	// request is then answered 503).
	Member(ctx context.Context, room id.RoomID, user id.UserID) (Member, error)
}

// Access is what a Policy decides on: a user joined to a room, and their
// power level there.
type Access struct {
	Room       id.RoomID
	User       id.UserID
	PowerLevel int
}

// Policy decides whether a joined user may sign in to a widget or do one of
// its actions. It is called at sign-in and before every guarded action
// (never cached: keep it cheap, e.g. an in-memory department lookup). It
// returns false to refuse (403 forbidden) and an error if it could not
// decide (503).
type Policy func(ctx context.Context, a Access) (bool, error)

// AnyMember lets every joined user in.
func AnyMember(context.Context, Access) (bool, error) { return true, nil }

// MinPowerLevel lets in users whose power level in the room is at least
// level (staff actions of the ticket widget: 50).
func MinPowerLevel(level int) Policy {
	return func(_ context.Context, a Access) (bool, error) { return a.PowerLevel >= level, nil }
}

// AnyOf lets a user in if one of the policies does ("power level ≥ 50 or
// staff of the case's department"). An error of one policy is returned
// only if no other lets the user in.
func AnyOf(policies ...Policy) Policy {
	return func(ctx context.Context, a Access) (bool, error) {
		var firstErr error
		for _, p := range policies {
			ok, err := p(ctx, a)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			if ok {
				return true, nil
			}
		}
		return false, firstErr
	}
}

// memberCache remembers Rooms.Member answers for a few seconds, so a burst
// of actions costs one homeserver request per room and user.
type memberCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[memberKey]memberEntry
}

type memberKey struct {
	room id.RoomID
	user id.UserID
}

type memberEntry struct {
	member  Member
	expires time.Time
}

func newMemberCache(ttl time.Duration, maxEntries int, now func() time.Time) *memberCache {
	return &memberCache{ttl: ttl, max: maxEntries, now: now, entries: make(map[memberKey]memberEntry)}
}

func (c *memberCache) get(room id.RoomID, user id.UserID) (Member, bool) {
	if c.ttl <= 0 {
		return Member{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[memberKey{room, user}]
	if !ok || !c.now().Before(e.expires) {
		return Member{}, false
	}
	return e.member, true
}

func (c *memberCache) put(room id.RoomID, user id.UserID, m Member) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
	}
	if len(c.entries) >= c.max {
		// Still full of fresh answers: drop them all; the next requests ask
		// the homeserver again. Only a flood of distinct users reaches this.
		clear(c.entries)
	}
	c.entries[memberKey{room, user}] = memberEntry{member: m, expires: now.Add(c.ttl)}
}

func (c *memberCache) forget(room id.RoomID, user id.UserID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, memberKey{room, user})
}
