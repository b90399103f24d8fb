package rtc

import (
	"errors"
	"fmt"
	"sync"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/video/signal"
)

// maxHeldCandidates bounds the candidates held before the first remote
// description; a client that trickles more than that before offering is
// broken or hostile.
const maxHeldCandidates = 64

// ErrClosed: the peer is closed.
var ErrClosed = errors.New("rtc: the peer connection is closed")

// PeerOptions configure NewPeer.
type PeerOptions struct {
	// Send delivers a signalling message (sdp or candidate) to the client.
	// It is called from the peer's goroutines and must not block long.
	Send func(signal.Message)
	// OnTrack is called for every track the client publishes (one call per
	// simulcast layer).
	OnTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)
	// OnState is called when the connection's state changes.
	OnState func(webrtc.PeerConnectionState)
	// Hold makes the peer offer nothing until Release: the caller first
	// applies the offer the client joined with, so the first negotiation
	// is the client's (a track to send that turns up in between waits).
	Hold bool
	Log  zerolog.Logger
}

// Peer is one participant's peer connection, negotiated as the impolite
// peer of perfect negotiation: it offers whenever its tracks change, and
// ignores a client offer that collides with its own (the polite client
// rolls back and offers again once stable). Its methods are safe for
// concurrent use; negotiation steps run one at a time.
type Peer struct {
	pc   *webrtc.PeerConnection
	opts PeerOptions

	estMu     sync.Mutex
	estimator chan cc.BandwidthEstimator
	est       cc.BandwidthEstimator

	mu          sync.Mutex // serialises negotiation
	makingOffer bool
	pending     bool // a renegotiation was asked for while not stable (or held)
	holding     bool // Hold, until Release
	held        []webrtc.ICECandidateInit
	closed      bool
	offers      int
	answers     int
}

// NewPeer creates a peer connection on the engine's sockets.
func (e *Engine) NewPeer(opts PeerOptions) (*Peer, error) {
	if opts.Send == nil {
		return nil, errors.New("rtc: PeerOptions.Send is required")
	}
	p := &Peer{opts: opts, estimator: make(chan cc.BandwidthEstimator, 1), holding: opts.Hold}
	api, err := e.api(p.estimator)
	if err != nil {
		return nil, err
	}
	if p.pc, err = api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	}); err != nil {
		return nil, fmt.Errorf("rtc: failed to create a peer connection: %w", err)
	}
	p.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		p.opts.Send(signal.Message{Type: signal.TypeCandidate, Candidate: &signal.Candidate{
			Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex,
			UsernameFragment: init.UsernameFragment}})
	})
	p.pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		if p.opts.OnTrack != nil {
			p.opts.OnTrack(t, r)
		}
	})
	p.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if p.opts.OnState != nil {
			p.opts.OnState(s)
		}
	})
	return p, nil
}

// PC is the underlying peer connection (for stats and tests).
func (p *Peer) PC() *webrtc.PeerConnection { return p.pc }

// Estimator is the send-side bandwidth estimate towards the client; nil
// until the connection has one.
func (p *Peer) Estimator() cc.BandwidthEstimator {
	p.estMu.Lock()
	defer p.estMu.Unlock()
	if p.est == nil {
		select {
		case p.est = <-p.estimator:
		default:
		}
	}
	return p.est
}

// AddTrack adds a track to send to the client and renegotiates.
func (p *Peer) AddTrack(t webrtc.TrackLocal) (*webrtc.RTPSender, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	// Always a new send-only m-line: pion's AddTrack would reuse the
	// client's own (simulcast) send transceiver of the same kind for the
	// other direction, which browsers do not receive reliably.
	tr, err := p.pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err == nil && t.Kind() == webrtc.RTPCodecTypeVideo {
		// Resends towards a subscriber go in the original stream, not as
		// RTX: pion's RTX towards receivers did not repair their streams
		// (TestUnderLossAndDelay), retransmission in the stream does.
		// Publishers' RTX (what browsers send us) is unaffected.
		err = tr.SetCodecPreferences(sendCodecs(t.Kind()))
	}
	p.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("rtc: failed to add a track: %w", err)
	}
	p.Negotiate()
	return tr.Sender(), nil
}

// RemoveTrack stops sending a track and renegotiates.
func (p *Peer) RemoveTrack(s *webrtc.RTPSender) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	err := p.pc.RemoveTrack(s)
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("rtc: failed to remove a track: %w", err)
	}
	p.Negotiate()
	return nil
}

// Negotiate sends an offer now if the connection is stable, or as soon as
// it is.
func (p *Peer) Negotiate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.negotiateLocked()
}

func (p *Peer) negotiateLocked() {
	if p.closed {
		return
	}
	if p.holding || p.makingOffer || p.pc.SignalingState() != webrtc.SignalingStateStable {
		p.pending = true
		return
	}
	p.pending = false
	p.makingOffer = true
	defer func() { p.makingOffer = false }()
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		p.fail(err)
		return
	}
	if err = p.pc.SetLocalDescription(offer); err != nil {
		p.fail(err)
		return
	}
	p.offers++
	p.opts.Send(signal.Message{Type: signal.TypeSDP, Description: &signal.SessionDescription{
		Type: "offer", SDP: p.pc.LocalDescription().SDP}})
}

// Release ends Hold: what was asked for meanwhile is offered now.
func (p *Peer) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.holding {
		return
	}
	p.holding = false
	if p.pending {
		p.negotiateLocked()
	}
}

// fail reports a negotiation fault to the client; the connection stays as
// it is, and the next change tries again.
func (p *Peer) fail(err error) {
	p.opts.Log.Warn().Err(err).Msg("Failed to renegotiate")
	p.opts.Send(signal.Error(signal.ReasonServerError, "negotiation failed"))
}

// HandleSDP applies the client's offer or answer. A client offer that
// collides with the server's own is ignored (the server is impolite).
func (p *Peer) HandleSDP(d signal.SessionDescription) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	switch d.Type {
	case "offer":
		if p.makingOffer || p.pc.SignalingState() != webrtc.SignalingStateStable {
			return nil // collision: the client rolls back and answers ours
		}
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: d.SDP}); err != nil {
			return fmt.Errorf("rtc: the client's offer was refused: %w", err)
		}
		p.flushHeldLocked()
		answer, err := p.pc.CreateAnswer(nil)
		if err != nil {
			return fmt.Errorf("rtc: failed to answer: %w", err)
		}
		if err = p.pc.SetLocalDescription(answer); err != nil {
			return fmt.Errorf("rtc: failed to set the answer: %w", err)
		}
		p.answers++
		p.opts.Send(signal.Message{Type: signal.TypeSDP, Description: &signal.SessionDescription{
			Type: "answer", SDP: p.pc.LocalDescription().SDP}})
	case "answer":
		if p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
			return nil // an answer to an offer we no longer have
		}
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: d.SDP}); err != nil {
			return fmt.Errorf("rtc: the client's answer was refused: %w", err)
		}
		p.flushHeldLocked()
	default:
		return fmt.Errorf("rtc: %q is neither offer nor answer", d.Type)
	}
	if p.pending {
		p.negotiateLocked()
	}
	return nil
}

// HandleCandidate adds the client's candidate, or holds it until the
// first remote description is set.
func (p *Peer) HandleCandidate(c signal.Candidate) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if c.Candidate == "" {
		return nil // end of candidates
	}
	init := webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex,
		UsernameFragment: c.UsernameFragment}
	if p.pc.RemoteDescription() == nil {
		if len(p.held) >= maxHeldCandidates {
			return errors.New("rtc: too many candidates before the offer")
		}
		p.held = append(p.held, init)
		return nil
	}
	if err := p.pc.AddICECandidate(init); err != nil {
		return fmt.Errorf("rtc: the candidate was refused: %w", err)
	}
	return nil
}

func (p *Peer) flushHeldLocked() {
	for _, c := range p.held {
		_ = p.pc.AddICECandidate(c) // a bad held candidate does not stop the others
	}
	p.held = nil
}

// WriteRTCP sends RTCP to the client (PLI to a publisher, REMB).
func (p *Peer) WriteRTCP(pkts []rtcp.Packet) error {
	return p.pc.WriteRTCP(pkts)
}

// Negotiations counts the offers sent and answers given (metrics, tests).
func (p *Peer) Negotiations() (offers, answers int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.offers, p.answers
}

// Close closes the peer connection.
func (p *Peer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	return p.pc.Close()
}
