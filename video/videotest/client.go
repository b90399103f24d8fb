// Package videotest is a synthetic participant of the embedded media
// server, for tests and the load tool (bench/video): a pion peer
// connection that speaks rathaus's signalling protocol (offer in the join,
// polite after that), publishes synthetic VP8 (optionally as three
// simulcast layers) and Opus-sized audio, and counts what it receives. It
// is what a browser does, without a browser, so tests can run many of them
// on two cores.
package videotest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/signal"
)

// Options say what a client publishes.
type Options struct {
	// Video publishes a synthetic VP8 track; Simulcast sends it as three
	// layers q, h, f (at 1/4, 1/2 and all of the bitrate).
	Video, Simulcast bool
	// Audio publishes a synthetic Opus track with audio levels (RFC
	// 6464): silence, or loud while Speaking (SetSpeaking changes it).
	Audio, Speaking bool
	// StreamID of the published tracks ("screen…" marks a screen share).
	StreamID string
	// PacketsPerSecond of the full layer (default 200); keyframes every
	// KeyframeEvery frames (default 60) and on every PLI.
	PacketsPerSecond int
	PayloadSize      int
	// Header sets extra request headers (Origin).
	Header http.Header
	// UDPPort pins the client's one local UDP port (and turns TCP off).
	UDPPort uint16
	// Impair, if set, makes the client's path lossy and slow (one UDP
	// socket on 127.0.0.1, no TCP).
	Impair *Impairment
	// ICEServers are STUN and TURN servers (a grant's); with RelayOnly
	// the client gathers only relay candidates, so all its media goes
	// through TURN, as from a network that lets no UDP through.
	ICEServers []webrtc.ICEServer
	RelayOnly  bool
	// TCPOnly makes the client use ICE-TCP alone, as from a network that
	// lets no UDP out at all.
	TCPOnly bool
	// OnPacket, if set, is called for every RTP packet received, and the
	// client does nothing else with them (the load tool counts).
	OnPacket func(webrtc.RTPCodecType)
}

// Client is one synthetic participant.
type Client struct {
	PC   *webrtc.PeerConnection
	ws   *websocket.Conn
	opts Options

	mu          sync.Mutex
	makingOffer bool
	held        []webrtc.ICECandidateInit
	messages    []signal.Message
	errs        []error
	impaired    *impairedConn
	frameTimes  []time.Time
	keyTimes    []time.Time
	plisSent    atomic.Int64
	speaking    atomic.Bool
	joinSent    bool
	early       []signal.Message
	readErr     error
	closed      *signal.Reason
	tracks      []*webrtc.TrackRemote

	// Received counts RTP packets received per track id.
	received sync.Map // string → *atomic.Int64
	// FirstPacket is when the first RTP packet arrived (zero until then).
	firstPacket    atomic.Int64
	plis           atomic.Int64
	keyframes      atomic.Int64
	keyframeWanted sync.Map // rid → *atomic.Bool
	done           chan struct{}
	stopSend       chan struct{}
	stopOnce       sync.Once
	Joined         chan signal.Message
	Gone           chan struct{}
	goneOnce       sync.Once
}

// Dial connects to the signalling URL with a grant and waits for joined
// (or the refusal).
func Dial(ctx context.Context, url, grant string, opts Options) (*Client, error) {
	if opts.PacketsPerSecond <= 0 {
		opts.PacketsPerSecond = 200
	}
	if opts.PayloadSize <= 0 {
		opts.PayloadSize = 900
	}
	if opts.StreamID == "" {
		opts.StreamID = "camera"
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	for _, uri := range []string{"urn:ietf:params:rtp-hdrext:ssrc-audio-level"} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	if opts.UDPPort != 0 {
		// One known local port, so a test can shape this client's
		// traffic alone (tc filters by port); UDP only.
		if err := se.SetEphemeralUDPPortRange(opts.UDPPort, opts.UDPPort); err != nil {
			return nil, err
		}
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	if opts.TCPOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	}
	if opts.RelayOnly {
		// pion (v4.2) quirk: the relay policy does not stop pion from
		// gathering active ICE-TCP host candidates, so TCP is turned off.
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	var impaired *impairedConn
	if opts.Impair != nil {
		udp, err := (&net.ListenConfig{}).ListenPacket(ctx, "udp4", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		impaired = impair(udp, opts.Impair)
		se.SetICEUDPMux(webrtc.NewICEUDPMux(nil, impaired))
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	cfg := webrtc.Configuration{ICEServers: opts.ICEServers}
	if opts.TCPOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	}
	if opts.RelayOnly {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		return nil, err
	}
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: opts.Header})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("videotest: failed to dial: %w", err)
	}
	ws.SetReadLimit(signal.MaxMessageSize)
	c := &Client{PC: pc, ws: ws, opts: opts, impaired: impaired, done: make(chan struct{}), stopSend: make(chan struct{}),
		Joined: make(chan signal.Message, 1), Gone: make(chan struct{})}
	c.speaking.Store(opts.Speaking)
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		j := cand.ToJSON()
		m := signal.Message{Type: signal.TypeCandidate, Candidate: &signal.Candidate{Candidate: j.Candidate,
			SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex}}
		c.mu.Lock()
		if !c.joinSent { // join goes first; its offer's candidates follow it
			c.early = append(c.early, m)
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		_ = c.Send(m)
	})
	pc.OnTrack(c.onTrack)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed {
			c.goneOnce.Do(func() { close(c.Gone) })
		}
	})
	// A publisher offers in its join, so the first negotiation cannot
	// collide with the server's offer of the others' tracks (pion cannot
	// roll back a local offer, so it cannot be the polite peer).
	join := signal.Message{Type: signal.TypeJoin, Grant: grant}
	if opts.Video || opts.Audio {
		if err = c.publish(); err != nil {
			c.Close()
			return nil, err
		}
		o, err := pc.CreateOffer(nil)
		if err == nil {
			err = pc.SetLocalDescription(o)
		}
		if err != nil {
			c.Close()
			return nil, err
		}
		join.Description = &signal.SessionDescription{Type: "offer", SDP: pc.LocalDescription().SDP}
	}
	pc.OnNegotiationNeeded(func() { go c.negotiate() })
	go c.readLoop()
	if err = c.Send(join); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.joinSent = true
	early := c.early
	c.early = nil
	c.mu.Unlock()
	for _, m := range early {
		_ = c.Send(m)
	}
	select {
	case j, ok := <-c.Joined:
		if !ok {
			return c, c.refusal()
		}
		_ = j
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
	return c, nil
}

// ErrRefused wraps a refusal of the join.
var ErrRefused = errors.New("videotest: the server refused")

func (c *Client) refusal() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.messages) - 1; i >= 0; i-- {
		if c.messages[i].Type == signal.TypeError || c.messages[i].Type == signal.TypeClosed {
			return fmt.Errorf("%w: %s", ErrRefused, c.messages[i].Reason)
		}
	}
	return fmt.Errorf("%w: the socket closed", ErrRefused)
}

// Send writes a message.
func (c *Client) Send(m signal.Message) error {
	raw, err := signal.Encode(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, raw)
}

// SendRaw writes any bytes (tests of the decoder's refusals).
func (c *Client) SendRaw(raw []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, raw)
}

func (c *Client) readLoop() {
	defer close(c.done)
	joined := false
	defer func() {
		if !joined {
			close(c.Joined)
		}
	}()
	for {
		_, raw, err := c.ws.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		m, err := signal.DecodeServer(raw)
		if err != nil {
			continue
		}
		c.mu.Lock()
		c.messages = append(c.messages, m)
		if m.Type == signal.TypeClosed {
			r := m.Reason
			c.closed = &r
		}
		c.mu.Unlock()
		switch m.Type {
		case signal.TypeJoined:
			if !joined {
				joined = true
				c.Joined <- m
			}
		case signal.TypeSDP:
			c.onSDP(*m.Description)
		case signal.TypeCandidate:
			init := webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid,
				SDPMLineIndex: m.Candidate.SDPMLineIndex}
			c.mu.Lock()
			if c.PC.RemoteDescription() == nil {
				c.held = append(c.held, init)
			} else {
				_ = c.PC.AddICECandidate(init)
			}
			c.mu.Unlock()
		case signal.TypeClosed:
			_ = c.PC.Close()
		}
	}
}

// onSDP is the polite peer of perfect negotiation: on a collision it
// rolls its own offer back and answers the server's; pion then fires
// negotiationneeded again for what is still unsent.
func (c *Client) onSDP(d signal.SessionDescription) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d.Type == "offer" {
		if c.makingOffer || c.PC.SignalingState() != webrtc.SignalingStateStable {
			// pion refuses a rollback without SDP (browsers take it):
			// hand it the offer being rolled back.
			rollback := webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}
			if pending := c.PC.PendingLocalDescription(); pending != nil {
				rollback.SDP = pending.SDP
			}
			if err := c.PC.SetLocalDescription(rollback); err != nil {
				c.failLocked(fmt.Errorf("rollback: %w", err))
				return
			}
		}
		if err := c.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: d.SDP}); err != nil {
			c.failLocked(fmt.Errorf("remote offer: %w", err))
			return
		}
		c.flushHeld()
		answer, err := c.PC.CreateAnswer(nil)
		if err == nil {
			err = c.PC.SetLocalDescription(answer)
		}
		if err != nil {
			c.failLocked(fmt.Errorf("answer: %w", err))
			return
		}
		answerSDP := c.PC.LocalDescription().SDP
		go func() { // a lost socket shows in the read loop
			_ = c.Send(signal.Message{Type: signal.TypeSDP, Description: &signal.SessionDescription{Type: "answer", SDP: answerSDP}})
		}()
		return
	}
	if c.PC.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		if err := c.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: d.SDP}); err != nil {
			c.failLocked(fmt.Errorf("remote answer: %w", err))
			return
		}
		c.flushHeld()
	}
}

// Errors are the client's own negotiation failures and how its socket
// ended (tests assert none while the call runs).
func (c *Client) Errors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]error(nil), c.errs...)
	if c.readErr != nil {
		out = append(out, fmt.Errorf("socket: %w", c.readErr))
	}
	return out
}

func (c *Client) failLocked(err error) { c.errs = append(c.errs, err) }

func (c *Client) flushHeld() {
	for _, h := range c.held {
		_ = c.PC.AddICECandidate(h)
	}
	c.held = nil
}

// negotiate sends an offer for what changed (pion's negotiationneeded).
func (c *Client) negotiate() {
	c.mu.Lock()
	if c.PC.SignalingState() != webrtc.SignalingStateStable {
		c.mu.Unlock()
		return // negotiationneeded fires again once stable
	}
	c.makingOffer = true
	o, err := c.PC.CreateOffer(nil)
	if err == nil {
		err = c.PC.SetLocalDescription(o)
	}
	c.makingOffer = false
	var sdp string
	if err == nil {
		sdp = c.PC.LocalDescription().SDP
	} else {
		c.failLocked(fmt.Errorf("offer: %w", err))
	}
	c.mu.Unlock()
	if err == nil {
		_ = c.Send(signal.Message{Type: signal.TypeSDP, Description: &signal.SessionDescription{Type: "offer", SDP: sdp}})
	}
}

func (c *Client) onTrack(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	// Reading the receiver's RTCP is what lets pion's report interceptor
	// see the server's sender reports, so its receiver reports carry the
	// LSR and DLSR the server measures the round trip with (browsers do
	// this by themselves).
	go func() {
		for {
			if _, _, err := r.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	c.mu.Lock()
	c.tracks = append(c.tracks, t)
	c.mu.Unlock()
	n := &atomic.Int64{}
	v, _ := c.received.LoadOrStore(t.ID(), n)
	counter := v.(*atomic.Int64) //nolint:forcetypeassert // only *atomic.Int64 is stored
	video := t.Kind() == webrtc.RTPCodecTypeVideo
	go func() {
		var pkt rtp.Packet
		buf := make([]byte, 1500)
		frames := map[uint32]map[uint16]bool{}
		firstSeen := map[uint32]time.Time{}
		key := map[uint32]bool{}
		lastPLI := time.Time{}
		broken := false
		for {
			n, _, err := t.Read(buf)
			if err != nil {
				return
			}
			if c.opts.OnPacket != nil {
				c.opts.OnPacket(t.Kind())
				continue
			}
			now := time.Now()
			c.firstPacket.CompareAndSwap(0, now.UnixNano())
			counter.Add(1)
			if !video || pkt.Unmarshal(buf[:n]) != nil || len(pkt.Payload) < 2 {
				continue
			}
			// A frame of the synthetic publisher is PacketsPerFrame
			// packets with one timestamp; it is decoded when all arrived
			// (late ones through NACK included) and its references are
			// intact. As a decoder does, a frame still incomplete after
			// lostAfter breaks the chain: nothing decodes until the next
			// keyframe, which is asked for with PLI (at most every 500 ms).
			const lostAfter = time.Second
			seqs := frames[pkt.Timestamp]
			if seqs == nil {
				seqs = map[uint16]bool{}
				frames[pkt.Timestamp] = seqs
				firstSeen[pkt.Timestamp] = now
			}
			seqs[pkt.SequenceNumber] = true
			if pkt.Payload[0]&0x10 != 0 && pkt.Payload[1]&0x01 == 0 {
				key[pkt.Timestamp] = true
			}
			if len(seqs) == PacketsPerFrame {
				if key[pkt.Timestamp] {
					broken = false
				}
				if !broken {
					c.frameDone(now, key[pkt.Timestamp])
				}
				delete(frames, pkt.Timestamp)
				delete(firstSeen, pkt.Timestamp)
				delete(key, pkt.Timestamp)
			}
			for ts, at := range firstSeen {
				if now.Sub(at) > lostAfter {
					broken = true
					delete(frames, ts)
					delete(firstSeen, ts)
					delete(key, ts)
				}
			}
			if last := c.lastFrame(); (broken || (!last.IsZero() && now.Sub(last) > lostAfter)) && now.Sub(lastPLI) > 500*time.Millisecond {
				lastPLI = now
				c.plisSent.Add(1)
				_ = c.PC.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.SSRC())}})
			}
			if len(frames) > 200 { // forget frames that never completed
				clear(frames)
				clear(firstSeen)
				clear(key)
			}
		}
	}()
}

// PacketsPerFrame is how many packets a synthetic video frame has.
const PacketsPerFrame = 3

func (c *Client) frameDone(at time.Time, key bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frameTimes = append(c.frameTimes, at)
	if key {
		c.keyTimes = append(c.keyTimes, at)
	}
}

func (c *Client) lastFrame() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.frameTimes) == 0 {
		return time.Time{}
	}
	return c.frameTimes[len(c.frameTimes)-1]
}

// FramesBetween counts the complete video frames received in [from, to).
func (c *Client) FramesBetween(from, to time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, at := range c.frameTimes {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// LongestFrameGap is the longest time without a complete frame in
// [from, to).
func (c *Client) LongestFrameGap(from, to time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	longest, last := time.Duration(0), from
	for _, at := range c.frameTimes {
		if at.Before(from) || !at.Before(to) {
			continue
		}
		longest = max(longest, at.Sub(last))
		last = at
	}
	return max(longest, to.Sub(last))
}

// FirstKeyframeAfter is when the first complete keyframe arrived after t,
// zero if none did.
func (c *Client) FirstKeyframeAfter(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, at := range c.keyTimes {
		if at.After(t) {
			return at
		}
	}
	return time.Time{}
}

// PLIsSent counts the keyframe requests this client sent as a subscriber.
func (c *Client) PLIsSent() int64 { return c.plisSent.Load() }

// Received returns the packets received per track id.
func (c *Client) Received() map[string]int64 {
	out := map[string]int64{}
	c.received.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load() //nolint:forcetypeassert // see onTrack
		return true
	})
	return out
}

// Total is the sum of Received.
func (c *Client) Total() int64 {
	var n int64
	for _, v := range c.Received() {
		n += v
	}
	return n
}

// FirstPacket is when the first media packet arrived, zero if none yet.
func (c *Client) FirstPacket() time.Time {
	n := c.firstPacket.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Tracks are the remote tracks so far.
func (c *Client) Tracks() []*webrtc.TrackRemote {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*webrtc.TrackRemote(nil), c.tracks...)
}

// Messages are the server messages so far.
func (c *Client) Messages() []signal.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]signal.Message(nil), c.messages...)
}

// ClosedReason is the reason of the server's closed message, "" if none.
func (c *Client) ClosedReason() signal.Reason {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed == nil {
		return ""
	}
	return *c.closed
}

// SocketDone is closed when the signalling socket ended.
func (c *Client) SocketDone() <-chan struct{} { return c.done }

// PLIs counts the keyframe requests the publisher received.
func (c *Client) PLIs() int64 { return c.plis.Load() }

// Close leaves and closes everything.
func (c *Client) Close() {
	c.stopOnce.Do(func() { close(c.stopSend) })
	_ = c.ws.Close(websocket.StatusNormalClosure, "")
	_ = c.PC.Close()
	if c.impaired != nil {
		_ = c.impaired.Close()
	}
}

// publish adds the synthetic tracks and offers.
func (c *Client) publish() error {
	if c.opts.Video {
		rids := []string{""}
		if c.opts.Simulcast {
			rids = []string{"q", "h", "f"}
		}
		var sender *webrtc.RTPSender
		for i, rid := range rids {
			var opts []func(*webrtc.TrackLocalStaticRTP)
			if rid != "" {
				opts = append(opts, webrtc.WithRTPStreamID(rid))
			}
			t, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
				"video", c.opts.StreamID, opts...)
			if err != nil {
				return err
			}
			if i == 0 {
				if sender, err = c.PC.AddTrack(t); err != nil {
					return err
				}
			} else if err = sender.AddEncoding(t); err != nil {
				return err
			}
			share := 1 << (len(rids) - 1 - i) // f: 1, h: 2, q: 4 → rates 1, 1/2, 1/4
			go c.sendVideo(t, sender, rid, c.opts.PacketsPerSecond/share)
			go c.readRTCP(sender, rid)
		}
	}
	if c.opts.Audio {
		t, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
			"audio", c.opts.StreamID)
		if err != nil {
			return err
		}
		s, err := c.PC.AddTrack(t)
		if err != nil {
			return err
		}
		go c.readRTCP(s, "")
		go c.sendAudio(t, s)
	}
	return nil // pion's negotiationneeded offers
}

// wanted is the flag a layer's sender checks for a requested keyframe.
func (c *Client) wanted(rid string) *atomic.Bool {
	v, _ := c.keyframeWanted.LoadOrStore(rid, &atomic.Bool{})
	return v.(*atomic.Bool) //nolint:forcetypeassert // only *atomic.Bool is stored
}

// readRTCP reads one encoding's RTCP (pion keeps it per rid): a keyframe
// request makes that layer's next frame a keyframe, as browsers do.
func (c *Client) readRTCP(s *webrtc.RTPSender, rid string) {
	for {
		var pkts []rtcp.Packet
		var err error
		if rid == "" {
			pkts, _, err = s.ReadRTCP()
		} else {
			pkts, _, err = s.ReadSimulcastRTCP(rid)
		}
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.plis.Add(1)
				c.wanted(rid).Store(true)
			}
		}
	}
}

// sendVideo writes synthetic VP8 at pps packets per second: frames of
// three packets at pps/3 frames per second, a keyframe every 60 frames
// and after a PLI. The payload descriptor is real (RFC 7741) so the SFU
// finds the keyframes.
func (c *Client) sendVideo(t *webrtc.TrackLocalStaticRTP, sender *webrtc.RTPSender, rid string, pps int) {
	const perFrame = PacketsPerFrame
	fps := max(1, pps/perFrame)
	tick := time.NewTicker(time.Second / time.Duration(fps))
	defer tick.Stop()
	payload := make([]byte, c.opts.PayloadSize)
	var seq uint16
	var ts uint32
	frame := 0
	for {
		select {
		case <-c.stopSend:
			return
		case <-tick.C:
		}
		key := frame%60 == 0 || c.wanted(rid).Swap(false)
		frame++
		ts += 90000 / uint32(fps) //nolint:gosec // fps is small
		if key {
			c.keyframes.Add(1)
		}
		for i := range perFrame {
			payload[0] = 0x00
			if i == 0 {
				payload[0] = 0x10 // S=1, PID=0
			}
			// The VP8 frame tag (RFC 6386 §9.1) after the descriptor:
			// show_frame, and for a keyframe the start code and 1280×720,
			// so servers that read keyframe sizes (LiveKit) find them.
			payload[1] = 0x11 // P=1: interframe
			if key {
				copy(payload[1:], []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02})
			}
			seq++
			p := rtp.Packet{Header: rtp.Header{Version: 2, Marker: i == perFrame-1, SequenceNumber: seq, Timestamp: ts},
				Payload: payload}
			if rid != "" && !c.tagSimulcast(&p, sender, rid) {
				continue // not negotiated yet
			}
			if err := t.WriteRTP(&p); err != nil {
				return
			}
		}
	}
}

// tagSimulcast sets the mid and rid header extensions a simulcast layer
// is recognised by (browsers do this; pion's sender does not).
func (c *Client) tagSimulcast(p *rtp.Packet, sender *webrtc.RTPSender, rid string) bool {
	var midID, ridID uint8
	for _, h := range sender.GetParameters().HeaderExtensions {
		switch h.URI {
		case sdp.SDESMidURI:
			midID = uint8(h.ID) //nolint:gosec // negotiated ids are 1..14
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(h.ID) //nolint:gosec // as above
		}
	}
	mid := ""
	for _, tr := range c.PC.GetTransceivers() {
		if tr.Sender() == sender {
			mid = tr.Mid()
		}
	}
	if midID == 0 || ridID == 0 || mid == "" {
		return false
	}
	return p.SetExtension(midID, []byte(mid)) == nil && p.SetExtension(ridID, []byte(rid)) == nil
}

// SetSpeaking makes the client's audio loud (speaking) or silent.
func (c *Client) SetSpeaking(on bool) { c.speaking.Store(on) }

// sendAudio writes 50 packets a second with the audio level extension:
// loud (-20 dBov) while speaking, else silence (-127 dBov).
func (c *Client) sendAudio(t *webrtc.TrackLocalStaticRTP, sender *webrtc.RTPSender) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	payload := make([]byte, 80)
	var seq uint16
	var ts uint32
	for {
		select {
		case <-c.stopSend:
			return
		case <-tick.C:
		}
		seq++
		ts += 960
		p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts}, Payload: payload}
		level := uint8(127)
		if c.speaking.Load() {
			level = 20
		}
		for _, h := range sender.GetParameters().HeaderExtensions {
			if h.URI == sdp.AudioLevelURI {
				if ext, err := (rtp.AudioLevelExtension{Level: level, Voice: level < 127}).Marshal(); err == nil {
					_ = p.SetExtension(uint8(h.ID), ext) //nolint:gosec // negotiated ids are 1..14
				}
			}
		}
		if err := t.WriteRTP(&p); err != nil {
			return
		}
	}
}

// ICEServers turns a grant's STUN and TURN servers into pion's.
func ICEServers(in []video.ICEServer) []webrtc.ICEServer {
	out := make([]webrtc.ICEServer, 0, len(in))
	for _, s := range in {
		out = append(out, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return out
}

// SelectedLocal is this client's candidate of the connection's selected
// pair (its protocol says UDP or TCP, its type whether it is a TURN
// relay); false before a pair is selected.
func (c *Client) SelectedLocal() (webrtc.ICECandidateStats, bool) {
	stats := c.PC.GetStats()
	for _, st := range stats {
		if pair, ok := st.(webrtc.ICECandidatePairStats); ok && pair.Nominated {
			local, ok := stats[pair.LocalCandidateID].(webrtc.ICECandidateStats)
			return local, ok
		}
	}
	return webrtc.ICECandidateStats{}, false
}
