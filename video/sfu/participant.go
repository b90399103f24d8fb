package sfu

import (
	"slices"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/rathaus-de/rathaus/video/rtc"
	"github.com/rathaus-de/rathaus/video/signal"
)

// Participant is one member of a room with its peer connection.
type Participant struct {
	ID       string
	Identity string
	Role     string
	JoinedAt time.Time

	rights Rights
	room   *Room
	peer   *rtc.Peer
	send   func(signal.Message)

	mu         sync.Mutex
	published  []*upTrack
	byTrackID  map[string]*upTrack // the publisher's own track ids, to group simulcast layers
	downs      map[*upTrack]*downTrack
	audioMuted bool
	videoMuted bool
	left       bool
	connected  time.Time
	firstVideo time.Time // the first video packet forwarded to p
	leftOnce   sync.Once
	// screenStream is the stream id the client named as its screen share.
	screenStream string
}

// SetScreenStream records which of the client's streams is a screen
// share (signal.TypeScreen).
func (p *Participant) SetScreenStream(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.screenStream = id
}

func (p *Participant) isScreen(streamID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return isScreen(streamID) || (p.screenStream != "" && streamID == p.screenStream)
}

// Peer is the participant's transport.
func (p *Participant) Peer() *rtc.Peer { return p.peer }

// Rights are what the participant may do.
func (p *Participant) Rights() Rights { return p.rights }

// View is the participant as the others see it.
func (p *Participant) View() signal.Participant {
	p.mu.Lock()
	defer p.mu.Unlock()
	return signal.Participant{ID: p.ID, Role: p.Role, Publishing: len(p.published) > 0,
		AudioMuted: p.audioMuted, VideoMuted: p.videoMuted}
}

// Publishing reports whether the participant sends any track.
func (p *Participant) Publishing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.published) > 0
}

// SetMuted records the participant's own mute and tells the others.
func (p *Participant) SetMuted(kind signal.MediaKind, muted bool) {
	p.mu.Lock()
	if kind == signal.KindAudio {
		p.audioMuted = muted
	} else {
		p.videoMuted = muted
	}
	p.mu.Unlock()
	p.room.Broadcast(signal.Message{Type: signal.TypeParticipant, Event: signal.EventChanged,
		Participant: ptr(p.View())}, p)
}

func ptr[T any](v T) *T { return &v }

// onTrack is pion's callback for a track (or simulcast layer) the
// participant sends.
func (p *Participant) onTrack(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	screen := p.isScreen(t.StreamID())
	if !p.rights.Publish || (screen && !p.rights.ScreenShare) {
		p.send(signal.Error(signal.ReasonNotAllowed, "this participant may not publish that track"))
		go drain(t)
		return
	}
	p.mu.Lock()
	if p.left {
		p.mu.Unlock()
		return
	}
	if p.byTrackID == nil {
		p.byTrackID = map[string]*upTrack{}
	}
	key := t.ID() + "/" + t.StreamID()
	u, exists := p.byTrackID[key]
	if !exists {
		u = newUpTrack(p, p.room.newTrackID(t.Kind(), screen), t, r)
		u.screen = screen
		p.byTrackID[key] = u
		p.published = append(p.published, u)
	}
	p.mu.Unlock()
	u.addLayer(t, r)
	if exists {
		return
	}
	for _, o := range p.room.Participants() {
		if o != p && o.rights.Subscribe {
			o.subscribeTo(u)
		}
	}
	p.room.Broadcast(signal.Message{Type: signal.TypeParticipant, Event: signal.EventChanged,
		Participant: ptr(p.View())}, p)
}

// readReports reads the RTCP a publisher sends about one layer. Nothing
// in it is forwarded, but reading it is what passes the publisher's
// sender reports through pion's report interceptor, so the receiver
// reports the server sends back carry LSR and DLSR, from which the
// publisher's browser measures its round trip.
func readReports(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	for {
		var err error
		if t.RID() == "" {
			_, _, err = r.ReadRTCP()
		} else {
			_, _, err = r.ReadSimulcastRTCP(t.RID())
		}
		if err != nil {
			return
		}
	}
}

// drain reads a track nobody may receive, so pion's buffers do not fill.
func drain(t *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := t.Read(buf); err != nil {
			return
		}
	}
}

// tracks lists what the participant publishes.
func (p *Participant) tracks() []*upTrack {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*upTrack(nil), p.published...)
}

// subscribeTo starts forwarding u to p.
func (p *Participant) subscribeTo(u *upTrack) {
	p.mu.Lock()
	if p.left || p.downs[u] != nil {
		p.mu.Unlock()
		return
	}
	d := newDownTrack(u, p)
	p.downs[u] = d
	p.mu.Unlock()
	if p.room.startsPaused(p, u) {
		d.paused = true // not yet bound: nobody else holds d
	} else if u.kind == webrtc.RTPCodecTypeVideo {
		d.setTarget(0) // start on the lowest layer: the first frame comes soonest
	}
	u.subscribe(d)
	s, err := p.peer.AddTrack(d)
	if err != nil {
		u.unsubscribe(d)
		p.mu.Lock()
		delete(p.downs, u)
		p.mu.Unlock()
		return
	}
	d.sender = s
}

// unsubscribeFrom stops forwarding u to p.
func (p *Participant) unsubscribeFrom(u *upTrack) {
	p.mu.Lock()
	d := p.downs[u]
	delete(p.downs, u)
	p.mu.Unlock()
	if d == nil {
		return
	}
	u.unsubscribe(d)
	if d.sender != nil {
		_ = p.peer.RemoveTrack(d.sender)
	}
}

// chooseLayers picks, for every video track p receives, the highest
// simulcast layer that fits p's share of its bandwidth estimate.
func (p *Participant) chooseLayers(now time.Time) {
	est := p.peer.Estimator()
	p.mu.Lock()
	var videos []*downTrack
	for u, d := range p.downs {
		if u.kind == webrtc.RTPCodecTypeVideo {
			videos = append(videos, d)
		}
	}
	p.mu.Unlock()
	videos = slices.DeleteFunc(videos, (*downTrack).isPaused)
	if len(videos) == 0 || est == nil {
		return
	}
	budget := est.GetTargetBitrate() / len(videos)
	for _, d := range videos {
		d.setTarget(pickLayer(d, budget, now))
	}
}

// pickLayer is the layer choice for one down track: the highest live
// layer whose measured bitrate fits the budget (with 15 % headroom to go
// up, none to stay), else the lowest live layer; while no layer is live,
// the current target stays.
func pickLayer(d *downTrack, budget int, now time.Time) int {
	rates, alive := d.up.layerStates(now)
	current, target := d.layers()
	best, lowest := -1, -1
	for i := range len3 {
		if !alive[i] {
			continue
		}
		if lowest < 0 {
			lowest = i
		}
		need := rates[i]
		if i > current {
			need = need * 115 / 100
		}
		if need <= budget {
			best = i
		}
	}
	// Probing by trying: the estimate cannot grow much beyond what is
	// sent (no padding probes here), so a subscriber on a low layer would
	// never see room for the next one. When the next layer nearly fits
	// and nothing went down for a while, try it, and keep it while the
	// estimate grows towards it (it follows what is sent, seconds
	// behind); if it does not fit, the estimate falls and the subscriber
	// comes back down.
	if l, ok := d.probing(now, budget); ok && target == l && alive[l] && best < l {
		return l
	}
	if best == current && current >= 0 && current+1 < len3 && alive[current+1] &&
		rates[current+1]*3/4 <= budget && d.mayProbe(now, current+1, budget) {
		return current + 1
	}
	switch {
	case best >= 0 && best > current && current >= 0 && alive[current] && now.Sub(d.downAt()) < upHoldoff:
		// Right after going down, stay: climbing back at once would
		// bounce between layers, a keyframe (and often a freeze) each time.
		return current
	case best >= 0:
		return best
	case lowest >= 0:
		return lowest
	default:
		return max(target, 0)
	}
}

// upHoldoff is how long a subscriber stays on a layer after it went down
// before it may climb again; probeEvery how often it may try the next
// layer the estimate does not quite allow, and probeHold how long such a
// try may last while the estimate does not fall.
const (
	upHoldoff  = 3 * time.Second
	probeEvery = 8 * time.Second
	probeHold  = 6 * time.Second
)

// capBitrate tells the publisher the most it may send (REMB).
func (p *Participant) capBitrate(limit int) {
	var ssrcs []uint32
	for _, u := range p.tracks() {
		if u.kind != webrtc.RTPCodecTypeVideo {
			continue
		}
		for i := range len3 {
			if l := u.layerAt(i); l != nil {
				ssrcs = append(ssrcs, uint32(l.track.SSRC()))
			}
		}
	}
	if len(ssrcs) > 0 {
		_ = p.peer.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: float32(limit), SSRCs: ssrcs}})
	}
}

// onState follows the peer connection: a failed or closed connection is
// a departure.
func (p *Participant) onState(s webrtc.PeerConnectionState) {
	switch s {
	case webrtc.PeerConnectionStateConnected:
		p.mu.Lock()
		first := p.connected.IsZero()
		if first {
			p.connected = time.Now()
		}
		p.mu.Unlock()
		if first {
			p.room.metrics.joinLatency.Observe(time.Since(p.JoinedAt).Seconds())
		}
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		go p.Leave()
	default:
	}
}

// Leave takes p out of the call: its tracks stop reaching the others,
// its peer connection closes. Calling it again does nothing.
func (p *Participant) Leave() {
	p.leftOnce.Do(func() {
		p.mu.Lock()
		p.left = true
		published := p.published
		p.published = nil
		downs := p.downs
		p.downs = map[*upTrack]*downTrack{}
		p.mu.Unlock()
		removed := p.room.remove(p)
		for u, d := range downs {
			u.unsubscribe(d)
		}
		for _, u := range published {
			for _, d := range u.close() {
				d.subscriber.unsubscribeFrom(u)
			}
		}
		_ = p.peer.Close()
		p.room.speakers.forget(p)
		if removed {
			p.room.Broadcast(signal.Message{Type: signal.TypeParticipant, Event: signal.EventLeft,
				Participant: &signal.Participant{ID: p.ID, Role: p.Role}}, p)
			if p.room.hooks.Left != nil {
				p.room.hooks.Left(p)
			}
		}
	})
}

// unpublish takes a track the participant stopped sending (a screen
// share ended, a camera removed) away from every subscriber; their pages
// see the track end. After Leave it does nothing: Leave has done it.
func (p *Participant) unpublish(u *upTrack) {
	p.mu.Lock()
	if p.left {
		p.mu.Unlock()
		return
	}
	i := slices.Index(p.published, u)
	if i < 0 {
		p.mu.Unlock()
		return
	}
	p.published = slices.Delete(p.published, i, i+1)
	for k, v := range p.byTrackID {
		if v == u {
			delete(p.byTrackID, k)
		}
	}
	p.mu.Unlock()
	for _, d := range u.close() {
		d.subscriber.unsubscribeFrom(u)
	}
	p.room.Broadcast(signal.Message{Type: signal.TypeParticipant, Event: signal.EventChanged,
		Participant: ptr(p.View())}, p)
}

// firstFrame records the first video frame forwarded to p.
func (p *Participant) firstFrame(now time.Time) {
	p.mu.Lock()
	first := p.firstVideo.IsZero()
	if first {
		p.firstVideo = now
	}
	p.mu.Unlock()
	if first {
		p.room.metrics.firstFrame.Observe(now.Sub(p.JoinedAt).Seconds())
	}
}
