package cases

import (
	"sync"
	"time"

	"github.com/rathaus-de/rathaus/protocol"
)

// UpdateKind says what changed in a case.
type UpdateKind int

const (
	// TimelineChanged: a row of the citizen's timeline was added or
	// changed (a message, a status, an edit, a redaction).
	TimelineChanged UpdateKind = iota + 1
	// StaffTyping: staff started or stopped typing; see Update.TypingUntil.
	StaffTyping
	// StaffRead: staff read the timeline up to Update.ReadSeq.
	StaffRead
)

// Update is one change of a case that a channel may pass on to the
// citizen.
type Update struct {
	Case protocol.CaseID
	Kind UpdateKind
	// TypingUntil is when staff typing stops counting (StaffTyping); zero
	// if they stopped.
	TypingUntil time.Time
	// ReadSeq is the timeline row staff have read up to (StaffRead).
	ReadSeq int64
}

// feed fans updates out to the subscribers.
type feed struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(Update)
}

// Subscribe calls fn for every update of every case until the returned
// function is called. fn runs on the goroutine that made the change, in
// order per case; it must return quickly and must not call back into the
// Service.
func (s *Service) Subscribe(fn func(Update)) (unsubscribe func()) {
	f := &s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[int]func(Update){}
	}
	key := f.next
	f.next++
	f.subs[key] = fn
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.subs, key)
	}
}

func (s *Service) publish(u Update) {
	f := &s.feed
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, fn := range f.subs {
		fn(u)
	}
}
