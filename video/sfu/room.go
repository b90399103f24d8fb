// Package sfu forwards media between the participants of a call: rathaus's
// embedded selective forwarding unit. Each participant has one peer
// connection (video/rtc); what they publish is forwarded to everyone else
// who may subscribe, one simulcast layer per subscriber chosen by that
// subscriber's bandwidth estimate and switched at keyframes. It knows no
// Matrix, no cases and no database.
package sfu

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/video/rtc"
	"github.com/rathaus-de/rathaus/video/signal"
)

// Refusals of Join.
var (
	ErrRoomFull          = errors.New("sfu: the call is full")
	ErrTooManyPublishers = errors.New("sfu: the call has as many publishers as it may")
	ErrRoomClosed        = errors.New("sfu: the call has ended")
)

// Limits bound one room.
type Limits struct {
	MaxParticipants int
	MaxPublishers   int
	// MaxBitrate caps what one publisher sends, bits per second (sent to
	// the publisher as REMB); 0 leaves it to congestion control.
	MaxBitrate int
	// ListenerVideos, if > 0, makes a committee call: participants who
	// may not publish see the camera video of this many publishers, the
	// last active speakers (lastn.go).
	ListenerVideos int
}

// Rights are what one participant may do.
type Rights struct {
	Publish, Subscribe, ScreenShare bool
}

// Hooks tell the owner of a room what happens in it.
type Hooks struct {
	// Joined and Left are called once per participant.
	Joined, Left func(p *Participant)
	// Speaking is called when the loudest speaker changes.
	Speaking func(p *Participant)
}

// Room is one call's forwarding.
type Room struct {
	ID      string
	log     zerolog.Logger
	engine  *rtc.Engine
	hooks   Hooks
	metrics *metrics

	mu        sync.Mutex
	limits    Limits
	parts     map[string]*Participant
	closed    bool
	nextTrack int
	// lastListenerVideos is ListenerVideos at the last selectVideos.
	lastListenerVideos int

	speakers *speakers
	stop     chan struct{}
}

// NewRoom starts a room's background work (layer choice, speakers,
// bitrate caps); Close stops it.
func NewRoom(id string, e *rtc.Engine, limits Limits, hooks Hooks, m *Metrics, log zerolog.Logger) *Room {
	r := &Room{ID: id, log: log, engine: e, hooks: hooks, limits: limits, parts: map[string]*Participant{},
		stop: make(chan struct{})}
	r.metrics = m.forRoom()
	r.speakers = newSpeakers(r)
	go r.tick()
	return r
}

// SetLimits changes the room's limits; participants already in stay.
func (r *Room) SetLimits(l Limits) {
	r.mu.Lock()
	r.limits = l
	r.mu.Unlock()
}

// Join adds a participant with its signalling sink. id is opaque (the
// stream id others see); identity is the caller's name for it.
func (r *Room) Join(id, identity, role string, rights Rights, send func(signal.Message)) (*Participant, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrRoomClosed
	}
	if r.limits.MaxParticipants > 0 && len(r.parts) >= r.limits.MaxParticipants {
		return nil, ErrRoomFull
	}
	if rights.Publish && r.limits.MaxPublishers > 0 {
		n := 0
		for _, p := range r.parts {
			if p.rights.Publish {
				n++
			}
		}
		if n >= r.limits.MaxPublishers {
			return nil, ErrTooManyPublishers
		}
	}
	if _, taken := r.parts[id]; taken {
		return nil, fmt.Errorf("sfu: participant %s is already in the call", id)
	}
	p := &Participant{ID: id, Identity: identity, Role: role, rights: rights, room: r, send: send,
		JoinedAt: time.Now(), downs: map[*upTrack]*downTrack{}}
	// Held until Start: a track the others publish meanwhile must not be
	// offered before the client's own join offer is answered (a polite
	// browser would roll back and offer again; the join offer exists so
	// that the first negotiation never collides).
	peer, err := r.engine.NewPeer(rtc.PeerOptions{Send: send, OnTrack: p.onTrack, OnState: p.onState,
		Hold: true, Log: r.log})
	if err != nil {
		return nil, err
	}
	p.peer = peer
	r.parts[id] = p
	r.metrics.participants.Inc()
	return p, nil
}

// Start begins forwarding what the others publish to p; the caller
// first applies the offer p joined with, if any.
func (p *Participant) Start() {
	r := p.room
	if p.rights.Subscribe {
		for _, o := range r.Participants() {
			if o == p {
				continue
			}
			for _, u := range o.tracks() {
				p.subscribeTo(u)
			}
		}
	}
	p.peer.Release()
	if r.hooks.Joined != nil {
		r.hooks.Joined(p)
	}
}

// Participant returns the participant with the id, or nil.
func (r *Room) Participant(id string) *Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.parts[id]
}

// Participants lists who is in the room, in join order.
func (r *Room) Participants() []*Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Participant, 0, len(r.parts))
	for _, p := range r.parts {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Participant) int { return a.JoinedAt.Compare(b.JoinedAt) })
	return out
}

// Broadcast sends a message to everyone but except (nil for everyone).
func (r *Room) Broadcast(m signal.Message, except *Participant) {
	for _, p := range r.Participants() {
		if p != except {
			p.send(m)
		}
	}
}

// remove takes p out of the room; false if it was not in it.
func (r *Room) remove(p *Participant) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.parts[p.ID] != p {
		return false
	}
	delete(r.parts, p.ID)
	r.metrics.participants.Dec()
	return true
}

// Close disconnects everyone and stops the room.
func (r *Room) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.stop)
	r.mu.Unlock()
	for _, p := range r.Participants() {
		p.Leave()
	}
}

// tick runs the room's periodic work: each subscriber's layer choice,
// the active speaker and the publishers' bitrate caps.
func (r *Room) tick() {
	layers := time.NewTicker(250 * time.Millisecond)
	defer layers.Stop()
	remb := time.NewTicker(time.Second)
	defer remb.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-layers.C:
			for _, p := range r.Participants() {
				p.chooseLayers(now)
			}
			r.speakers.update(now)
			r.selectVideos()
		case <-remb.C:
			r.mu.Lock()
			limit := r.limits.MaxBitrate
			r.mu.Unlock()
			if limit > 0 {
				for _, p := range r.Participants() {
					p.capBitrate(limit)
				}
			}
		}
	}
}

// newTrackID names a forwarded track: "audio-3", "video-4", "screen-5".
func (r *Room) newTrackID(kind webrtc.RTPCodecType, screen bool) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextTrack++
	name := kind.String()
	if screen {
		name = "screen"
	}
	return fmt.Sprintf("%s-%d", name, r.nextTrack)
}
