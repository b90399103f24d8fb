package ratelimit

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Named is a Limiter with the name a Set reports and looks its key up by,
// e.g. "session", "ip", "global".
type Named struct {
	Name    string
	Limiter *Limiter
}

// Set checks several limiters as one decision: a request passes only if
// every limiter has a token for it, and then takes one from each. It is
// safe for concurrent use, also while its limiters are used elsewhere
// (directly or in other Sets).
type Set struct {
	named  []Named        // in the order given to NewSet
	index  map[string]int // name → index into named
	locked []int          // indexes into named, in Limiter.order (lock order)
}

// NewSet returns a Set of the given limiters, checked in this order. Names
// must be unique and non-empty, and each Limiter may appear only once.
func NewSet(limiters ...Named) (*Set, error) {
	var problems []error
	names := make(map[string]bool, len(limiters))
	seen := make(map[*Limiter]bool, len(limiters))
	for i, n := range limiters {
		switch {
		case n.Name == "":
			problems = append(problems, fmt.Errorf("limiter %d: name is empty", i))
		case names[n.Name]:
			problems = append(problems, fmt.Errorf("limiter %q: name used twice", n.Name))
		}
		names[n.Name] = true
		switch {
		case n.Limiter == nil:
			problems = append(problems, fmt.Errorf("limiter %q: Limiter is nil", n.Name))
		case seen[n.Limiter]:
			problems = append(problems, fmt.Errorf("limiter %q: same Limiter as an earlier entry", n.Name))
		}
		seen[n.Limiter] = true
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(problems...))
	}
	s := &Set{named: slices.Clone(limiters), index: make(map[string]int, len(limiters))}
	for i, n := range s.named {
		s.index[n.Name] = i
		s.locked = append(s.locked, i)
	}
	slices.SortFunc(s.locked, func(a, b int) int {
		return cmp.Compare(s.named[a].Limiter.order, s.named[b].Limiter.order)
	})
	return s, nil
}

// Allow decides a request whose keys maps limiter names to keys, for
// example {"session": sid, "ip": IPKey(addr, 64), "global": ""}.
//
// Semantics:
//   - A limiter whose name is not in keys is not consulted (no session yet,
//     say). A global limiter takes any constant key, such as "". A name in
//     keys that the Set does not have is a programming error and panics, so
//     a misspelt name cannot silently disable a limit.
//   - All consulted limiters are locked together, checked, and only if
//     every one has a token is a token taken from each. A refusal takes
//     nothing anywhere: a client stopped by its session limit does not use
//     up its address's or everyone's tokens.
//   - On refusal, retryAfter is the longest wait among the refusing
//     limiters (until then at least one of them would still refuse),
//     rounded up to whole seconds ≥ 1 s, and which is that limiter's name
//     (the first in Set order on a tie), for metrics. On success which is
//     "".
func (s *Set) Allow(keys map[string]string) (ok bool, retryAfter time.Duration, which string) {
	for name := range keys {
		if _, known := s.index[name]; !known {
			panic(fmt.Sprintf("ratelimit: Set has no limiter named %q", name))
		}
	}
	for _, i := range s.locked {
		if _, use := keys[s.named[i].Name]; use {
			s.named[i].Limiter.mu.Lock()
			defer s.named[i].Limiter.mu.Unlock()
		}
	}

	type pending struct {
		l   *Limiter
		key string
		now time.Time
	}
	takes := make([]pending, 0, len(s.named))
	var longest time.Duration
	for _, n := range s.named {
		key, use := keys[n.Name]
		if !use {
			continue
		}
		now := n.Limiter.now()
		if wait := n.Limiter.wait(key, now); wait > longest {
			longest, which = wait, n.Name
		}
		takes = append(takes, pending{l: n.Limiter, key: key, now: now})
	}
	if longest > 0 {
		return false, roundUpSeconds(longest), which
	}
	for _, p := range takes {
		p.l.take(p.key, p.now)
	}
	return true, 0, ""
}
