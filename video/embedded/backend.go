// Package embedded is the default video.Backend: the media server inside
// the rathaus binary. It puts together the signalling protocol
// (video/signal), one pion peer connection per participant (video/rtc)
// and the forwarding (video/sfu), serves the WebSocket endpoint pages join
// through, and checks every join's grant. It knows no Matrix, no cases and
// no database; video's call service tells it who may join.
package embedded

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/rtc"
	"github.com/rathaus-de/rathaus/video/sfu"
)

// Options configure New.
type Options struct {
	// GrantKeys sign and verify grants: the first signs, all verify (key
	// rotation). Each is at least video.MinGrantKeyLength bytes.
	GrantKeys [][]byte
	// ICEUDPAddr is the one UDP port for all media ("host:port"; required).
	ICEUDPAddr string
	// ICETCPAddr is the one ICE-TCP port ("" turns ICE-TCP off).
	ICETCPAddr string
	// PublicIPs are announced instead of the local addresses (1:1 NAT).
	PublicIPs []netip.Addr
	// IncludeLoopback offers loopback candidates (tests, demo).
	IncludeLoopback bool
	// PublicURL is the signalling endpoint as pages reach it, e.g.
	// "wss://rathaus.example/video/v1/signal".
	PublicURL string
	// TURN returns the ICE servers (with short-lived credentials) for one
	// participant's join; nil hands out none.
	TURN func(call video.CallID, who video.Identity, ttl time.Duration) []video.ICEServer
	// JoinTimeout is how long a new socket may take to send its join
	// (default 10 s).
	JoinTimeout time.Duration
	// Now is the clock for grants (time.Now if nil).
	Now        func() time.Time
	Log        zerolog.Logger
	Registerer prometheus.Registerer
	// Bandwidth estimate bounds per subscriber (rtc.Config defaults if 0).
	InitialBitrate, MinBitrate, MaxBitrate int
}

// udpBuffer is the size asked for the media socket's kernel buffers.
const udpBuffer = 8 << 20

// Backend is the embedded media server.
type Backend struct {
	opts    Options
	udp     net.PacketConn
	tcp     net.Listener
	engine  *rtc.Engine
	metrics *sfu.Metrics

	mu     sync.Mutex
	calls  map[video.CallID]*call
	events video.Hub
	closed bool
}

var _ video.Backend = (*Backend)(nil)

// call is one call's room plus what the backend remembers of it.
type call struct {
	id    video.CallID
	room  *sfu.Room
	conns map[video.Identity]*conn
	// issued are the ids of the grants minted per identity, with their
	// expiry; a kick moves them to revoked, so every grant issued before
	// the kick is void and any minted after it works.
	issued  map[video.Identity]map[string]time.Time
	revoked map[string]time.Time
	// leaving marks identities whose departure was a kick or the end, so
	// no "left" event follows the "kicked" one.
	leaving map[*sfu.Participant]bool
}

// New opens the media ports and returns the backend.
func New(opts Options) (*Backend, error) {
	if len(opts.GrantKeys) == 0 {
		return nil, errors.New("video: the embedded backend needs a grant key")
	}
	for _, k := range opts.GrantKeys {
		if len(k) < video.MinGrantKeyLength {
			return nil, video.ErrGrantKey
		}
	}
	if _, err := url.Parse(opts.PublicURL); err != nil || opts.PublicURL == "" {
		return nil, fmt.Errorf("video: the public signalling URL %q is not a URL", opts.PublicURL)
	}
	if opts.JoinTimeout <= 0 {
		opts.JoinTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Backend{opts: opts, calls: map[video.CallID]*call{},
		metrics: sfu.NewMetrics(opts.Registerer)}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(sfu.NewCallCollector(b.rooms)); err != nil {
			return nil, fmt.Errorf("video: failed to register the call metrics: %w", err)
		}
	}
	var err error
	var lc net.ListenConfig
	if b.udp, err = lc.ListenPacket(context.Background(), "udp", opts.ICEUDPAddr); err != nil {
		return nil, fmt.Errorf("video: failed to open the media UDP port %s: %w", opts.ICEUDPAddr, err)
	}
	if u, ok := b.udp.(*net.UDPConn); ok {
		// One socket carries every participant's media: the kernel's
		// default buffers (~200 KiB) overflow at a few dozen subscribers.
		// The kernel caps these at net.core.[rw]mem_max.
		_ = u.SetWriteBuffer(udpBuffer)
		_ = u.SetReadBuffer(udpBuffer)
	}
	if opts.ICETCPAddr != "" {
		if b.tcp, err = lc.Listen(context.Background(), "tcp", opts.ICETCPAddr); err != nil {
			_ = b.udp.Close()
			return nil, fmt.Errorf("video: failed to open the ICE-TCP port %s: %w", opts.ICETCPAddr, err)
		}
	}
	if b.engine, err = rtc.NewEngine(rtc.Config{UDP: b.udp, TCP: b.tcp, PublicIPs: opts.PublicIPs,
		IncludeLoopback: opts.IncludeLoopback, InitialBitrate: opts.InitialBitrate, MinBitrate: opts.MinBitrate,
		MaxBitrate: opts.MaxBitrate, Log: opts.Log}); err != nil {
		_ = b.closeSockets()
		return nil, err
	}
	return b, nil
}

// UDPAddr and TCPAddr are the media ports as bound (tests use port 0).
func (b *Backend) UDPAddr() net.Addr { return b.udp.LocalAddr() }

// TCPAddr is the ICE-TCP port as bound, nil if off.
func (b *Backend) TCPAddr() net.Addr {
	if b.tcp == nil {
		return nil
	}
	return b.tcp.Addr()
}

func (b *Backend) closeSockets() error {
	err := b.udp.Close()
	if b.tcp != nil {
		err = errors.Join(err, b.tcp.Close())
	}
	return err
}

// Close ends every call and closes the media ports.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	ids := make([]video.CallID, 0, len(b.calls))
	for id := range b.calls {
		ids = append(ids, id)
	}
	b.mu.Unlock()
	for _, id := range ids {
		_ = b.EndCall(context.Background(), id)
	}
	return errors.Join(b.engine.Close(), b.closeSockets())
}

func sfuLimits(l video.Limits) sfu.Limits {
	return sfu.Limits{MaxParticipants: l.MaxParticipants, MaxPublishers: l.MaxPublishers, MaxBitrate: l.MaxBitrate,
		ListenerVideos: l.ListenerVideos}
}

// EnsureCall creates the call's room or updates its limits.
func (b *Backend) EnsureCall(_ context.Context, id video.CallID, limits video.Limits) error {
	if id == "" {
		return errors.New("video: a call needs an id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("video: the media server is shut down")
	}
	if c := b.calls[id]; c != nil {
		c.room.SetLimits(sfuLimits(limits))
		return nil
	}
	c := &call{id: id, conns: map[video.Identity]*conn{}, issued: map[video.Identity]map[string]time.Time{},
		revoked: map[string]time.Time{}, leaving: map[*sfu.Participant]bool{}}
	c.room = sfu.NewRoom(string(id), b.engine, sfuLimits(limits), sfu.Hooks{
		Joined: func(p *sfu.Participant) {
			b.emit(video.Event{Kind: video.EventJoined, Call: id, Identity: video.Identity(p.Identity), At: b.opts.Now()})
		},
		Left: func(p *sfu.Participant) {
			b.mu.Lock()
			quiet := c.leaving[p]
			delete(c.leaving, p)
			b.mu.Unlock()
			if !quiet {
				b.emit(video.Event{Kind: video.EventLeft, Call: id, Identity: video.Identity(p.Identity), At: b.opts.Now()})
			}
		},
		Speaking: func(p *sfu.Participant) {
			b.emit(video.Event{Kind: video.EventSpeaking, Call: id, Identity: video.Identity(p.Identity), At: b.opts.Now()})
		},
	}, b.metrics, b.opts.Log.With().Str("call", string(id)).Logger())
	b.calls[id] = c
	return nil
}

// Grant mints a grant for a call that exists.
func (b *Backend) Grant(_ context.Context, req video.GrantRequest) (video.JoinInfo, error) {
	now := b.opts.Now()
	token, claims, err := video.MintGrant(b.opts.GrantKeys[0], req.Call, req.Identity, req.Rights, now, req.TTL)
	if err != nil {
		return video.JoinInfo{}, err
	}
	b.mu.Lock()
	c := b.calls[req.Call]
	if c != nil {
		ids := c.issued[req.Identity]
		if ids == nil {
			ids = map[string]time.Time{}
			c.issued[req.Identity] = ids
		}
		for jti, exp := range ids { // forget what can no longer be used
			if now.After(exp) {
				delete(ids, jti)
			}
		}
		ids[claims.ID] = time.Unix(claims.Expires, 0)
	}
	b.mu.Unlock()
	if c == nil {
		return video.JoinInfo{}, video.ErrNoCall
	}
	ttl := time.Unix(claims.Expires, 0).Sub(now)
	info := video.JoinInfo{URL: b.opts.PublicURL + "?call=" + url.QueryEscape(string(req.Call)), Token: token,
		Expires: time.Unix(claims.Expires, 0)}
	if b.opts.TURN != nil {
		info.TURN = b.opts.TURN(req.Call, req.Identity, ttl)
	}
	return info, nil
}

// Kick disconnects who and voids every grant issued to them so far.
func (b *Backend) Kick(_ context.Context, id video.CallID, who video.Identity) error {
	b.mu.Lock()
	c := b.calls[id]
	if c == nil {
		b.mu.Unlock()
		return nil
	}
	now := b.opts.Now()
	for jti, exp := range c.revoked {
		if now.After(exp) {
			delete(c.revoked, jti)
		}
	}
	for jti, exp := range c.issued[who] {
		c.revoked[jti] = exp
	}
	delete(c.issued, who)
	cn := c.conns[who]
	if cn != nil {
		c.revoked[cn.grantID] = cn.grantExpires
		if cn.part != nil {
			c.leaving[cn.part] = true
		}
	}
	b.mu.Unlock()
	if cn != nil {
		cn.close(closeKicked)
		b.emit(video.Event{Kind: video.EventKicked, Call: id, Identity: who, At: b.opts.Now()})
	}
	return nil
}

// rooms lists the calls' rooms, for the per-call metrics.
func (b *Backend) rooms() []*sfu.Room {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*sfu.Room, 0, len(b.calls))
	for _, c := range b.calls {
		out = append(out, c.room)
	}
	return out
}

// Participants lists who is connected.
func (b *Backend) Participants(_ context.Context, id video.CallID) ([]video.Participant, error) {
	b.mu.Lock()
	c := b.calls[id]
	b.mu.Unlock()
	if c == nil {
		return nil, nil
	}
	var out []video.Participant
	for _, p := range c.room.Participants() {
		r := p.Rights()
		out = append(out, video.Participant{Identity: video.Identity(p.Identity), JoinedAt: p.JoinedAt,
			Publishing: p.Publishing(), Rights: video.Rights{Publish: r.Publish, Subscribe: r.Subscribe,
				ScreenShare: r.ScreenShare, Role: p.Role}, Quality: quality(p.Stats())})
	}
	return out, nil
}

// EndCall disconnects everyone and forgets the call.
func (b *Backend) EndCall(_ context.Context, id video.CallID) error {
	b.mu.Lock()
	c := b.calls[id]
	delete(b.calls, id)
	var conns []*conn
	if c != nil {
		for _, cn := range c.conns {
			conns = append(conns, cn)
			if cn.part != nil {
				c.leaving[cn.part] = true
			}
		}
	}
	b.mu.Unlock()
	if c == nil {
		return nil
	}
	for _, cn := range conns {
		cn.close(closeEnded)
	}
	c.room.Close()
	b.emit(video.Event{Kind: video.EventEnded, Call: id, At: b.opts.Now()})
	return nil
}

// RequestMute asks a participant's page to mute; the person decides.
func (b *Backend) RequestMute(_ context.Context, id video.CallID, who video.Identity, kind string) error {
	b.mu.Lock()
	var cn *conn
	if c := b.calls[id]; c != nil {
		cn = c.conns[who]
	}
	b.mu.Unlock()
	if cn == nil {
		return video.ErrNoCall
	}
	cn.muteRequest(kind)
	return nil
}

// Subscribe calls fn for every event until unsubscribed.
func (b *Backend) Subscribe(fn func(video.Event)) func() { return b.events.Subscribe(fn) }

func (b *Backend) emit(e video.Event) { b.events.Emit(e) }

// Room is the call's forwarding, for tests and the load tool; nil if
// the call does not exist.
func (b *Backend) Room(id video.CallID) *sfu.Room {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c := b.calls[id]; c != nil {
		return c.room
	}
	return nil
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// quality sums up a participant's stats; nil before anything was
// measured.
func quality(s sfu.Stats) *video.Quality {
	q := video.Quality{RTT: s.RTT}
	measured := s.RTT > 0
	for _, r := range s.Received {
		q.ReceiveLoss = max(q.ReceiveLoss, r.FractionLost)
	}
	for _, t := range s.Published {
		for _, l := range t.Layers {
			if l.PacketRate > 0 {
				measured = true
				q.SendLoss = max(q.SendLoss, l.Loss)
			}
		}
	}
	if !measured {
		return nil
	}
	return &q
}
