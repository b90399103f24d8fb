package sfu

import (
	"time"

	"github.com/pion/webrtc/v4"
)

// Stats are what tests, the call status and the per-call metrics read of
// a participant. They hold counts and timings, never media.
type Stats struct {
	// ID and Role are the participant's opaque id and role.
	ID, Role string
	// Layers maps each forwarded video track id to the layer sent now.
	Layers map[string]int
	// Forwarded counts the packets sent to this participant.
	Forwarded uint64
	// Estimate is the send-side bandwidth estimate in bits per second.
	Estimate int
	// NACKs counts the packets this participant asked to have resent,
	// Resent those sent again.
	NACKs, Resent int
	// JoinLatency is from joining to a connected peer connection,
	// FirstFrame from joining to the first video packet forwarded to the
	// participant; 0 until they happen.
	JoinLatency, FirstFrame time.Duration
	// RTT is the round-trip time measured with the participant's latest
	// reports (the mean over its received tracks), 0 before the first.
	RTT time.Duration
	// Received is each track the participant receives.
	Received []Subscription
	// Published is each track the participant sends.
	Published []TrackStats
}

// Subscription is one track as one subscriber receives it.
type Subscription struct {
	Track string
	Kind  string
	// Layer is the simulcast layer forwarded now (-1: none yet).
	Layer   int
	Packets uint64
	NACKs   int
	PLIs    int
	// Resent counts the packets sent again on the subscriber's NACKs.
	Resent int
	// FractionLost is the share of packets lost between the subscriber's
	// last two reports; TotalLost counts all it missed.
	FractionLost float64
	TotalLost    uint32
	RTT          time.Duration
}

// TrackStats is one published track as the server receives and forwards
// it.
type TrackStats struct {
	Track  string
	Kind   string
	Screen bool
	// Layers are the simulcast layers the publisher sends (one without
	// simulcast).
	Layers []LayerStats
	// Forwarded counts the packets written to subscribers; ForwardTime is
	// the time spent writing them (CPU time of the forwarding path, not of
	// the kernel's sending).
	Forwarded   uint64
	ForwardTime time.Duration
	PLIsSent    uint64
}

// LayerStats is one simulcast layer as received from the publisher.
type LayerStats struct {
	RID string
	// Packets received and lost (after retransmission) since the start.
	Packets, Lost uint64
	// PacketRate, Bitrate and Loss are over the last full second.
	PacketRate float64
	Bitrate    int
	Loss       float64
}

// Stats reads the participant's forwarding state.
func (p *Participant) Stats() Stats {
	s := Stats{ID: p.ID, Role: p.Role, Layers: map[string]int{}}
	if est := p.peer.Estimator(); est != nil {
		s.Estimate = est.GetTargetBitrate()
	}
	p.mu.Lock()
	if !p.connected.IsZero() {
		s.JoinLatency = p.connected.Sub(p.JoinedAt)
	}
	if !p.firstVideo.IsZero() {
		s.FirstFrame = p.firstVideo.Sub(p.JoinedAt)
	}
	published := append([]*upTrack(nil), p.published...)
	var rtts time.Duration
	n := 0
	for u, d := range p.downs {
		d.mu.Lock()
		s.Forwarded += d.packets
		s.NACKs += d.nacks
		s.Resent += d.resent
		if u.kind == webrtc.RTPCodecTypeVideo {
			s.Layers[u.id] = d.current
		}
		s.Received = append(s.Received, Subscription{Track: u.id, Kind: u.kind.String(), Layer: d.current,
			Packets: d.packets, NACKs: d.nacks, PLIs: d.plis, Resent: d.resent, FractionLost: d.fractionLost,
			TotalLost: d.totalLost, RTT: d.rtt})
		if d.rtt > 0 {
			rtts += d.rtt
			n++
		}
		d.mu.Unlock()
	}
	p.mu.Unlock()
	if n > 0 {
		s.RTT = rtts / time.Duration(n)
	}
	for _, u := range published {
		s.Published = append(s.Published, u.stats())
	}
	return s
}

func (u *upTrack) stats() TrackStats {
	t := TrackStats{Track: u.id, Kind: u.kind.String(), Screen: u.screen, Forwarded: u.forwarded.Load(),
		ForwardTime: time.Duration(u.forwardTime.Load()), PLIsSent: u.plisSent.Load()}
	u.mu.RLock()
	layers := u.layers
	u.mu.RUnlock()
	for i, l := range layers {
		if l == nil {
			continue
		}
		rid := ""
		if l.track.RID() != "" {
			rid = layerRIDs[i]
		}
		l.mu.Lock()
		t.Layers = append(t.Layers, LayerStats{RID: rid, Packets: l.seq.received, Lost: l.seq.lost(),
			PacketRate: l.packetRate, Bitrate: l.bitrate, Loss: l.loss})
		l.mu.Unlock()
	}
	return t
}
