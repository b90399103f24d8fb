package guestchat

import (
	"sync"
	"time"

	"github.com/rathaus-de/rathaus/protocol"
)

// hub wakes the live streams of a case when something happened, and keeps
// the case's ephemeral state (typing, read marker), which is not stored.
type hub struct {
	mu     sync.Mutex
	topics map[protocol.CaseID]*topic
}

type topic struct {
	subs        map[chan struct{}]struct{}
	typingUntil time.Time
	readSeq     int64
	// video counts changes of the citizen's state in the case's call.
	video int64
}

func newHub() *hub { return &hub{topics: make(map[protocol.CaseID]*topic)} }

// topic returns the case's topic; the caller holds mu.
func (h *hub) topic(caseID protocol.CaseID) *topic {
	t := h.topics[caseID]
	if t == nil {
		t = &topic{subs: make(map[chan struct{}]struct{})}
		h.topics[caseID] = t
	}
	return t
}

// subscribe returns a channel that receives a value (coalesced) whenever
// the case changes, and a function to unsubscribe.
func (h *hub) subscribe(caseID protocol.CaseID) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.topic(caseID).subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if t := h.topics[caseID]; t != nil {
			delete(t.subs, ch)
			if len(t.subs) == 0 && t.typingUntil.IsZero() && t.readSeq == 0 {
				delete(h.topics, caseID)
			}
		}
	}
}

// notify wakes every stream of the case.
func (h *hub) notify(caseID protocol.CaseID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[caseID]
	if t == nil {
		return
	}
	for ch := range t.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// setTyping records that staff type in the case until `until` (zero: not
// typing).
func (h *hub) setTyping(caseID protocol.CaseID, until time.Time) {
	h.mu.Lock()
	h.topic(caseID).typingUntil = until
	h.mu.Unlock()
	h.notify(caseID)
}

// setRead records staff's read marker.
func (h *hub) setRead(caseID protocol.CaseID, seq int64) {
	h.mu.Lock()
	t := h.topic(caseID)
	changed := seq > t.readSeq
	if changed {
		t.readSeq = seq
	}
	h.mu.Unlock()
	if changed {
		h.notify(caseID)
	}
}

// videoChanged records that the citizen's state in the case's call
// changed and wakes the case's streams. Without a stream there is nobody
// to tell: the page fetches its state when it comes back.
func (h *hub) videoChanged(caseID protocol.CaseID) {
	h.mu.Lock()
	t := h.topics[caseID]
	if t != nil {
		t.video++
	}
	h.mu.Unlock()
	if t != nil {
		h.notify(caseID)
	}
}

// videoVersion is the case's count of video changes.
func (h *hub) videoVersion(caseID protocol.CaseID) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.topics[caseID]; t != nil {
		return t.video
	}
	return 0
}

// ephemeral returns the case's current typing and read state.
func (h *hub) ephemeral(caseID protocol.CaseID, now time.Time) (typing bool, readSeq int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[caseID]
	if t == nil {
		return false, 0
	}
	return now.Before(t.typingUntil), t.readSeq
}
