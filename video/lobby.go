package video

import (
	"errors"
	"slices"
	"sync"
	"time"
)

// The lobby is the gate of a call: a participant gets no grant until a
// caseworker admitted them. knock → waiting → admitted | denied | expired.
// Nobody is ever admitted by the lobby itself: a citizen who knocks before
// any caseworker is there keeps waiting. Whoever calls Admit and Deny has
// checked that the actor is staff of the case; the lobby records who.

// KnockState is where a knock stands.
type KnockState string

// The states of a knock.
const (
	KnockWaiting  KnockState = "waiting"
	KnockAdmitted KnockState = "admitted"
	KnockDenied   KnockState = "denied"
	KnockExpired  KnockState = "expired"
	// KnockLeft: the participant withdrew their knock or hung up; a new
	// knock waits for admission again.
	KnockLeft KnockState = "left"
)

// The lobby's refusals.
var (
	// ErrNotWaiting: Admit or Deny for someone who is not waiting (never
	// knocked, already admitted or denied, expired).
	ErrNotWaiting = errors.New("video: nobody of that identity is waiting")
	// ErrKnockTooSoon: a knock again within LobbyOptions.Cooldown after a
	// denial.
	ErrKnockTooSoon = errors.New("video: denied a moment ago; knock again later")
	// ErrTooManyKnocks: more than LobbyOptions.MaxKnocks knocks of one
	// identity on one call.
	ErrTooManyKnocks = errors.New("video: knocked too often on this call")
)

// LobbyOptions configure NewLobby.
type LobbyOptions struct {
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// MaxWait is how long a knock waits before it expires (default 30 min).
	MaxWait time.Duration
	// Cooldown is how long after a denial a knock is refused (default 1 min).
	Cooldown time.Duration
	// MaxKnocks bounds the knocks of one identity on one call (default 10).
	MaxKnocks int
}

// Knock is one participant's place in a call's lobby.
type Knock struct {
	Call     CallID
	Identity Identity
	State    KnockState
	// Since is when the knock entered State.
	Since time.Time
	// Position is 1 for the longest waiting, 0 unless waiting.
	Position int
	// By is who admitted or denied, "" otherwise.
	By Identity
}

// LobbyEvent is a change of a knock, for the case's timeline: who, what,
// when; never content.
type LobbyEvent struct {
	Knock Knock
}

// Lobby holds the lobbies of all calls. It is safe for concurrent use.
type Lobby struct {
	opts LobbyOptions

	mu        sync.Mutex
	calls     map[CallID]map[Identity]*knockEntry
	listeners map[int]func(LobbyEvent)
	nextID    int
}

type knockEntry struct {
	Knock
	knockedAt time.Time
	knocks    int
}

// NewLobby makes an empty lobby.
func NewLobby(opts LobbyOptions) *Lobby {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 30 * time.Minute
	}
	if opts.Cooldown <= 0 {
		opts.Cooldown = time.Minute
	}
	if opts.MaxKnocks <= 0 {
		opts.MaxKnocks = 10
	}
	return &Lobby{opts: opts, calls: map[CallID]map[Identity]*knockEntry{}, listeners: map[int]func(LobbyEvent){}}
}

// Subscribe calls fn after every change of a knock, outside the lobby's
// lock, until unsubscribe is called.
func (l *Lobby) Subscribe(fn func(LobbyEvent)) (unsubscribe func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.nextID
	l.nextID++
	l.listeners[id] = fn
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.listeners, id)
	}
}

// Knock puts who into call's lobby. Knocking again while waiting or
// admitted changes nothing and returns the knock as it stands.
func (l *Lobby) Knock(call CallID, who Identity) (k Knock, err error) {
	l.withCall(call, func(now time.Time) []LobbyEvent {
		var changed bool
		k, changed, err = l.knockLocked(call, who, now)
		if !changed {
			return nil
		}
		return []LobbyEvent{{Knock: k}}
	})
	return k, err
}

// knockLocked knocks for who and reports whether the knock changed.
func (l *Lobby) knockLocked(call CallID, who Identity, now time.Time) (Knock, bool, error) {
	entries := l.calls[call]
	if entries == nil {
		entries = map[Identity]*knockEntry{}
		l.calls[call] = entries
	}
	e := entries[who]
	switch {
	case e != nil && (e.State == KnockWaiting || e.State == KnockAdmitted):
		return l.placeLocked(call, e), false, nil
	case e != nil && e.State == KnockDenied && now.Before(e.Since.Add(l.opts.Cooldown)):
		return Knock{}, false, ErrKnockTooSoon
	case e != nil && e.knocks >= l.opts.MaxKnocks:
		return Knock{}, false, ErrTooManyKnocks
	case e == nil:
		e = &knockEntry{}
		entries[who] = e
	}
	e.Knock = Knock{Call: call, Identity: who, State: KnockWaiting, Since: now}
	e.knockedAt = now
	e.knocks++
	return l.placeLocked(call, e), true, nil
}

// Admit lets a waiting participant in; by is the caseworker.
func (l *Lobby) Admit(call CallID, who, by Identity) (Knock, error) {
	return l.decide(call, who, by, KnockAdmitted)
}

// Deny turns a waiting participant away; by is the caseworker.
func (l *Lobby) Deny(call CallID, who, by Identity) (Knock, error) {
	return l.decide(call, who, by, KnockDenied)
}

func (l *Lobby) decide(call CallID, who, by Identity, state KnockState) (k Knock, err error) {
	l.withCall(call, func(now time.Time) []LobbyEvent {
		e := l.calls[call][who]
		if e == nil || e.State != KnockWaiting {
			err = ErrNotWaiting
			return nil
		}
		e.State, e.Since, e.By = state, now, by
		k = l.placeLocked(call, e)
		return []LobbyEvent{{Knock: k}}
	})
	return k, err
}

// Withdraw records that who left the lobby or the call (the page's
// "Abbrechen" or hang-up): an admission does not outlive it.
func (l *Lobby) Withdraw(call CallID, who Identity) {
	l.withCall(call, func(now time.Time) []LobbyEvent {
		e := l.calls[call][who]
		if e == nil || (e.State != KnockWaiting && e.State != KnockAdmitted) {
			return nil
		}
		e.State, e.Since, e.By = KnockLeft, now, ""
		return []LobbyEvent{{Knock: l.placeLocked(call, e)}}
	})
}

// Status returns who's knock on call, or false if they never knocked.
func (l *Lobby) Status(call CallID, who Identity) (k Knock, ok bool) {
	l.withCall(call, func(time.Time) []LobbyEvent {
		if e := l.calls[call][who]; e != nil {
			k, ok = l.placeLocked(call, e), true
		}
		return nil
	})
	return k, ok
}

// Admitted reports whether who may get a grant for call now.
func (l *Lobby) Admitted(call CallID, who Identity) bool {
	k, ok := l.Status(call, who)
	return ok && k.State == KnockAdmitted
}

// Waiting lists call's waiting knocks, longest waiting first.
func (l *Lobby) Waiting(call CallID) (out []Knock) {
	l.withCall(call, func(time.Time) []LobbyEvent {
		for _, e := range l.calls[call] {
			if e.State == KnockWaiting {
				out = append(out, l.placeLocked(call, e))
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Knock) int { return a.Position - b.Position })
	return out
}

// withCall runs fn under the lobby's lock, after expiring call's knocks
// that waited too long, and then tells the listeners of every change
// (the expiries and what fn returns), outside the lock.
func (l *Lobby) withCall(call CallID, fn func(now time.Time) []LobbyEvent) {
	var events []LobbyEvent
	defer func() { l.emit(events) }()
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opts.Now()
	events = l.expireLocked(call, now)
	events = append(events, fn(now)...)
}

// Sweep expires the knocks of every call that waited longer than
// MaxWait; a caller runs it now and then so expiries are told even if
// nobody asks.
func (l *Lobby) Sweep() {
	var events []LobbyEvent
	defer func() { l.emit(events) }()
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opts.Now()
	for call := range l.calls {
		events = append(events, l.expireLocked(call, now)...)
	}
}

// End forgets call's lobby: the call ended, every admission with it.
func (l *Lobby) End(call CallID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.calls, call)
}

// expireLocked moves knocks of call waiting since before now-MaxWait to
// expired and returns the events.
func (l *Lobby) expireLocked(call CallID, now time.Time) []LobbyEvent {
	var events []LobbyEvent
	for _, e := range l.calls[call] {
		if e.State == KnockWaiting && !now.Before(e.knockedAt.Add(l.opts.MaxWait)) {
			e.State, e.Since = KnockExpired, now
			events = append(events, LobbyEvent{Knock: l.placeLocked(call, e)})
		}
	}
	return events
}

// placeLocked is e's knock with its position among call's waiting knocks.
func (l *Lobby) placeLocked(call CallID, e *knockEntry) Knock {
	k := e.Knock
	k.Position = 0
	if k.State != KnockWaiting {
		return k
	}
	k.Position = 1
	for _, o := range l.calls[call] {
		if o != e && o.State == KnockWaiting &&
			(o.knockedAt.Before(e.knockedAt) || (o.knockedAt.Equal(e.knockedAt) && o.Identity < e.Identity)) {
			k.Position++
		}
	}
	return k
}

func (l *Lobby) emit(events []LobbyEvent) {
	if len(events) == 0 {
		return
	}
	l.mu.Lock()
	fns := make([]func(LobbyEvent), 0, len(l.listeners))
	for _, fn := range l.listeners {
		fns = append(fns, fn)
	}
	l.mu.Unlock()
	for _, ev := range events {
		for _, fn := range fns {
			fn(ev)
		}
	}
}
