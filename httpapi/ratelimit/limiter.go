// Package ratelimit owns the in-memory rate limits in front of rathaus's
// HTTP APIs (today the citizens' guest chat): keyed token buckets ([Limiter]), a [Set] that checks
// several of them (per session, per address, global) as one decision, and
// [IPKey], which turns a client address into a privacy-preserving key. It
// has no HTTP: the caller answers a refusal with httpapi.RateLimited (429
// and a Retry-After header of retryAfter's whole seconds).
package ratelimit

import (
	"container/list"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxKeys is the number of keys a Limiter remembers when
// Options.MaxKeys is zero (about 1.5 MB).
const DefaultMaxKeys = 10_000

// maxWindow bounds Burst/Rate so time arithmetic cannot overflow.
const maxWindow = 365 * 24 * time.Hour

// Options configures New.
type Options struct {
	// Rate is how many tokens per second each key regains; > 0. For "5 per
	// minute" write 5.0/60.
	Rate float64
	// Burst is how many tokens a key holds when full, ≥ 1: how many
	// requests an idle key may make at once.
	Burst int
	// Now returns the current time. Nil means time.Now; tests pass a fake
	// clock.
	Now func() time.Time
	// MaxKeys bounds memory: when a new key arrives and MaxKeys are held,
	// keys whose bucket has refilled are dropped first (forgetting them
	// changes nothing), then the least recently used key. Zero means
	// DefaultMaxKeys. An evicted key starts again with a full bucket, so
	// choose MaxKeys above the number of keys active within Burst/Rate.
	MaxKeys int
}

// Validate reports every problem with o, wrapped in ErrInvalidOptions.
func (o Options) Validate() error {
	var problems []error
	if !(o.Rate > 0) || math.IsInf(o.Rate, 0) {
		problems = append(problems, fmt.Errorf("rate: want a finite number of tokens per second > 0, got %v", o.Rate))
	}
	if o.Burst < 1 {
		problems = append(problems, fmt.Errorf("burst: want at least 1, got %d", o.Burst))
	}
	if len(problems) == 0 && float64(o.Burst)/o.Rate > maxWindow.Seconds() {
		problems = append(problems, fmt.Errorf("rate: burst %d at %v per second takes longer than %s to refill", o.Burst, o.Rate, maxWindow))
	}
	if o.MaxKeys < 0 {
		problems = append(problems, fmt.Errorf("max_keys: want 0 (default) or more, got %d", o.MaxKeys))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(problems...))
	}
	return nil
}

// Limiter is a token bucket per key: each key holds up to Burst tokens,
// regains Rate tokens per second, and each allowed request takes one. It is
// safe for concurrent use.
//
// Internally each key stores a single time, the moment its bucket will be
// full again (the "generic cell rate algorithm", which behaves exactly like
// a token bucket but needs no floating point). A key whose bucket is full
// needs no state at all.
type Limiter struct {
	// order fixes the order in which a Set locks its limiters, so two Sets
	// sharing limiters cannot deadlock.
	order    uint64
	interval time.Duration // time to regain one token
	window   time.Duration // time to regain Burst tokens
	now      func() time.Time
	maxKeys  int

	mu   sync.Mutex
	keys map[string]*list.Element // values are *bucket
	lru  *list.List               // front: most recently used
}

// bucket is one key's state.
type bucket struct {
	key string
	// full is when the bucket will hold Burst tokens again. At time t it
	// holds Burst - (full-t)/interval tokens; none of them if full-t >
	// window-interval.
	full time.Time
}

var limiterOrder atomic.Uint64

// New returns a Limiter. It panics if opts.Validate fails; validate
// configuration first.
func New(opts Options) *Limiter {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxKeys == 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	interval := max(time.Duration(float64(time.Second)/opts.Rate), 1)
	return &Limiter{
		order:    limiterOrder.Add(1),
		interval: interval,
		window:   interval * time.Duration(opts.Burst),
		now:      opts.Now,
		maxKeys:  opts.MaxKeys,
		keys:     make(map[string]*list.Element),
		lru:      list.New(),
	}
}

// Allow takes a token for key if one is available. If not, it takes
// nothing and returns how long until one is: at least one second, rounded
// up to whole seconds, ready for a Retry-After header.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if wait := l.wait(key, now); wait > 0 {
		return false, roundUpSeconds(wait)
	}
	l.take(key, now)
	return true, 0
}

// Forget drops key's state, giving it a full bucket (for example when a
// session ends, to free memory early).
func (l *Limiter) Forget(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.keys[key]; ok {
		l.remove(e)
	}
}

// Len returns the number of keys held in memory.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// wait returns how long until key has a token, 0 if it has one now. It
// changes no tokens; it marks key as recently used. l.mu must be held.
func (l *Limiter) wait(key string, now time.Time) time.Duration {
	e, ok := l.keys[key]
	if !ok {
		return 0 // a key without state has a full bucket, and Burst ≥ 1
	}
	l.lru.MoveToFront(e)
	// Taking a token moves full by one interval; allowed while that stays
	// within one window of now.
	b := e.Value.(*bucket)
	return later(b.full, now).Add(l.interval).Sub(now) - l.window
}

// take removes one token from key, which wait has just allowed. l.mu must
// be held.
func (l *Limiter) take(key string, now time.Time) {
	if e, ok := l.keys[key]; ok {
		b := e.Value.(*bucket)
		b.full = later(b.full, now).Add(l.interval)
		l.lru.MoveToFront(e)
		return
	}
	l.makeRoom(now)
	l.keys[key] = l.lru.PushFront(&bucket{key: key, full: now.Add(l.interval)})
}

// makeRoom drops refilled keys from the least recently used end, then, if
// the limiter is still at MaxKeys, the least recently used key. l.mu must
// be held.
func (l *Limiter) makeRoom(now time.Time) {
	for e := l.lru.Back(); e != nil && !e.Value.(*bucket).full.After(now); e = l.lru.Back() {
		l.remove(e)
	}
	for len(l.keys) >= l.maxKeys {
		l.remove(l.lru.Back())
	}
}

func (l *Limiter) remove(e *list.Element) {
	delete(l.keys, e.Value.(*bucket).key)
	l.lru.Remove(e)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// roundUpSeconds rounds d up to whole seconds, at least one.
func roundUpSeconds(d time.Duration) time.Duration {
	return max((d+time.Second-1)/time.Second*time.Second, time.Second)
}
