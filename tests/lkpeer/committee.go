package main

import (
	"slices"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// A committee listener (-videos N) takes every microphone but the camera
// video of N publishers: the last active speakers as LiveKit reports
// them, then the publishers in -order (LiveKit's Go SDK does not tell
// join times; the test gives the join order). It is the rule of rathaus's
// page (widgets/internal/webkit/lkcall.js), for the listeners a test
// cannot afford as browser pages: cameras not shown stay subscribed but
// disabled, pausing comes before showing.
//
// It reports {"event":"videos","ids":[…],"taken":n,"at":ms} whenever the
// set of cameras whose packets arrived in the last 300 ms changes (ids,
// sorted), with the most cameras it had enabled at once so far (taken).
type committee struct {
	n     int
	order []string

	mu         sync.Mutex
	room       *lksdk.Room
	recent     []string
	subscribed map[string]bool
	maxTaken   int

	seenMu sync.Mutex
	seen   map[string]time.Time // camera packets: from → last arrival

	// kick asks the worker to apply the rule (outside the SDK's
	// callbacks, in order).
	kick chan struct{}
}

func newCommittee(n int, order []string) *committee {
	return &committee{n: n, order: order, subscribed: map[string]bool{}, seen: map[string]time.Time{},
		kick: make(chan struct{}, 1)}
}

// changed asks for the rule to be applied again.
func (k *committee) changed() {
	select {
	case k.kick <- struct{}{}:
	default: // one is pending
	}
}

// work applies the rule whenever asked, until stop.
func (k *committee) work(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-k.kick:
			k.apply()
		}
	}
}

// speakers notes LiveKit's active speakers (loudest first).
func (k *committee) speakers(ps []lksdk.Participant) {
	k.mu.Lock()
	var now []string
	for _, p := range ps {
		if _, remote := p.(*lksdk.RemoteParticipant); remote {
			now = append(now, p.Identity())
		}
	}
	k.recent = append(now, slices.DeleteFunc(k.recent, func(id string) bool { return slices.Contains(now, id) })...)
	k.mu.Unlock()
	k.changed()
}

// apply subscribes, shows and pauses as the rule says.
func (k *committee) apply() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.room == nil {
		return
	}
	type entry struct {
		who string
		pub *lksdk.RemoteTrackPublication
	}
	var pubs []entry
	camera := map[string]bool{}
	var ids []string
	for _, rp := range k.room.GetRemoteParticipants() {
		ids = append(ids, rp.Identity())
		for _, tp := range rp.TrackPublications() {
			if pub, ok := tp.(*lksdk.RemoteTrackPublication); ok {
				pubs = append(pubs, entry{rp.Identity(), pub})
				if pub.Source() == livekit.TrackSource_CAMERA {
					camera[rp.Identity()] = true
				}
			}
		}
	}
	slices.Sort(ids)
	shown := map[string]bool{}
	for _, id := range slices.Concat(k.recent, k.order, ids) {
		if len(shown) < k.n && camera[id] {
			shown[id] = true
		}
	}
	show := func(e entry) bool { return e.pub.Source() != livekit.TrackSource_CAMERA || shown[e.who] }
	for _, e := range pubs {
		if !show(e) && e.pub.IsEnabled() {
			e.pub.SetEnabled(false)
		}
	}
	for _, e := range pubs {
		if show(e) && !e.pub.IsEnabled() {
			e.pub.SetEnabled(true)
		}
	}
	for _, e := range pubs {
		if !k.subscribed[e.pub.SID()] {
			k.subscribed[e.pub.SID()] = true
			_ = e.pub.SetSubscribed(true)
		}
	}
	taken := 0
	for _, e := range pubs {
		if e.pub.Source() == livekit.TrackSource_CAMERA && e.pub.IsEnabled() {
			taken++
		}
	}
	k.maxTaken = max(k.maxTaken, taken)
}

// packet notes a camera packet from.
func (k *committee) packet(from string) {
	k.seenMu.Lock()
	k.seen[from] = time.Now()
	k.seenMu.Unlock()
}

// report emits the flowing cameras when they change, until stop.
func (k *committee) report(stop <-chan struct{}) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last []string
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		now := time.Now()
		var ids []string
		k.seenMu.Lock()
		for from, at := range k.seen {
			if now.Sub(at) < 300*time.Millisecond {
				ids = append(ids, from)
			}
		}
		k.seenMu.Unlock()
		slices.Sort(ids)
		if last != nil && slices.Equal(ids, last) {
			continue
		}
		last = append([]string{}, ids...)
		k.mu.Lock()
		taken := k.maxTaken
		k.mu.Unlock()
		emit(map[string]any{"event": "videos", "ids": ids, "taken": taken, "at": now.UnixMilli()})
	}
}
