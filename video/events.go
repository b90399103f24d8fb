package video

import "sync"

// Hub hands a backend's events to its subscribers (Backend.Subscribe).
// The zero value is ready.
type Hub struct {
	mu   sync.Mutex
	subs map[int]func(Event)
	next int
}

// Subscribe calls fn for every event until unsubscribed.
func (h *Hub) Subscribe(fn func(Event)) (unsubscribe func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[int]func(Event){}
	}
	h.next++
	n := h.next
	h.subs[n] = fn
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, n)
	}
}

// Emit calls every subscriber with e, outside the hub's lock.
func (h *Hub) Emit(e Event) {
	h.mu.Lock()
	fns := make([]func(Event), 0, len(h.subs))
	for _, fn := range h.subs {
		fns = append(fns, fn)
	}
	h.mu.Unlock()
	for _, fn := range fns {
		fn(e)
	}
}
