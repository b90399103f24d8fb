package sfu

import (
	"slices"

	"github.com/pion/webrtc/v4"
)

// Committee calls (Limits.ListenerVideos > 0): the members publish, the
// listeners (participants who may not publish) hear everyone but see the
// camera video of the last N active speakers only; screen shares always.
// A listener's other camera tracks stay subscribed but paused: nothing is
// forwarded, and a speaker change resumes one at its next keyframe, so no
// renegotiation is needed and the switch takes about a speaker window
// plus a keyframe.

// noteSpeakers moves the speakers of a window (loudest first) to the front
// of the room's recency list. r.speakers.mu is held.
func (s *speakers) noteSpeakers(ids []string) {
	for i := len(ids) - 1; i >= 0; i-- {
		s.recent = slices.DeleteFunc(s.recent, func(x string) bool { return x == ids[i] })
		s.recent = append([]string{ids[i]}, s.recent...)
	}
}

// shownVideos is the set of publishers whose camera video listeners get:
// the most recent speakers first, then the others in the order they
// joined, n of them.
func (r *Room) shownVideos(n int) map[string]bool {
	r.speakers.mu.Lock()
	recent := slices.Clone(r.speakers.recent)
	r.speakers.mu.Unlock()
	parts := r.Participants()
	slices.SortFunc(parts, func(a, b *Participant) int { return a.JoinedAt.Compare(b.JoinedAt) })
	camera := map[string]bool{}
	for _, p := range parts {
		for _, u := range p.tracks() {
			if u.kind == webrtc.RTPCodecTypeVideo && !u.screen {
				camera[p.ID] = true
			}
		}
	}
	shown := map[string]bool{}
	for _, id := range recent {
		if len(shown) < n && camera[id] {
			shown[id] = true
		}
	}
	for _, p := range parts {
		if len(shown) < n && camera[p.ID] {
			shown[p.ID] = true
		}
	}
	return shown
}

// listenerVideos is the room's limit of camera videos per listener, 0 for
// no limit.
func (r *Room) listenerVideos() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limits.ListenerVideos
}

// selectVideos pauses and resumes the listeners' camera tracks (the room's
// tick calls it after the speakers' update).
func (r *Room) selectVideos() {
	n := r.listenerVideos()
	r.mu.Lock()
	was := r.lastListenerVideos
	r.lastListenerVideos = n
	r.mu.Unlock()
	if n <= 0 && was <= 0 {
		return // not a committee call, and nothing paused from one
	}
	var shown map[string]bool
	if n > 0 {
		shown = r.shownVideos(n)
	}
	for _, p := range r.Participants() {
		listener := !p.rights.Publish
		for _, d := range p.downTracks() {
			if d.up.kind != webrtc.RTPCodecTypeVideo || d.up.screen {
				continue
			}
			d.setPaused(n > 0 && listener && !shown[d.up.publisher.ID])
		}
	}
}

// startsPaused says whether a new subscription of p to u begins paused.
func (r *Room) startsPaused(p *Participant, u *upTrack) bool {
	n := r.listenerVideos()
	if n <= 0 || p.rights.Publish || u.kind != webrtc.RTPCodecTypeVideo || u.screen {
		return false
	}
	return !r.shownVideos(n)[u.publisher.ID]
}

// downTracks lists p's subscriptions.
func (p *Participant) downTracks() []*downTrack {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*downTrack, 0, len(p.downs))
	for _, d := range p.downs {
		out = append(out, d)
	}
	return out
}

// setPaused stops or resumes forwarding; resumed, the track starts again
// on the lowest layer at its next keyframe, with sequence numbers going on
// where they stopped.
func (d *downTrack) setPaused(paused bool) {
	d.mu.Lock()
	if d.paused == paused {
		d.mu.Unlock()
		return
	}
	d.paused = paused
	if paused {
		d.current, d.target = -1, -1
	}
	d.mu.Unlock()
	if !paused {
		d.setTarget(0)
	}
}

// isPaused reports whether d forwards nothing by the committee rule.
func (d *downTrack) isPaused() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.paused
}

// VideosShown is the number of camera videos p is forwarded now (tests).
func (p *Participant) VideosShown() int {
	n := 0
	for _, d := range p.downTracks() {
		if d.up.kind == webrtc.RTPCodecTypeVideo && !d.up.screen && !d.isPaused() {
			n++
		}
	}
	return n
}
