package sfu

import (
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// The simulcast layers, lowest first, by the rids the pages send
// (docs/video.md): q(uarter), h(alf), f(ull). A track without simulcast
// has one layer, rid "".
var layerRIDs = []string{"q", "h", "f"}

func layerIndex(rid string) int {
	if i := slices.Index(layerRIDs, rid); i >= 0 {
		return i
	}
	return 0
}

const (
	// pliThrottle is the shortest time between two keyframe requests to
	// a publisher's layer: a keyframe costs a lot of bits, and subscribers
	// joining or switching together need only one.
	pliThrottle = 500 * time.Millisecond
	// layerStale is how long a layer may be silent before subscribers
	// stop waiting for it (the publisher paused it for lack of bandwidth).
	layerStale = time.Second
	// layerPaused is the silence after which a layer counts as switched
	// off by its publisher while a lower layer still sends: several
	// frame intervals even at a low frame rate.
	layerPaused = 400 * time.Millisecond
	// bitrateWindow is the window over which a layer's bitrate is
	// measured.
	bitrateWindow = time.Second
	// resumeAfter is the silence after which a layer's return gets a
	// keyframe request.
	resumeAfter = 300 * time.Millisecond
)

// layer is one simulcast encoding of a published track (or the only one).
type layer struct {
	index   int
	track   *webrtc.TrackRemote
	lastPLI atomic.Int64 // unix nanos

	mu         sync.Mutex
	windowAt   time.Time
	windowBits int
	bitrate    int // bits per second over the last full window
	lastPacket time.Time
	seq        seqCounter
	// The last full window's packet rate and loss, and the counts at its
	// start.
	packetRate float64
	loss       float64
	windowSeq  seqCounter
	// history keeps the layer's recent packets for resends (video only).
	history *history
}

// record counts a packet of the layer and, for video, keeps it for
// resends.
func (l *layer) record(now time.Time, raw []byte, seq uint16) {
	bytes := len(raw)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastPacket = now
	l.seq.add(seq)
	if l.history != nil {
		l.history.put(seq, raw)
	}
	if l.windowAt.IsZero() {
		l.windowAt, l.windowSeq = now, l.seq
	}
	if d := now.Sub(l.windowAt); d >= bitrateWindow {
		l.bitrate = int(float64(l.windowBits) / d.Seconds())
		received := l.seq.received - l.windowSeq.received
		l.packetRate = float64(received) / d.Seconds()
		l.loss = lossBetween(l.windowSeq, l.seq)
		l.windowBits, l.windowAt, l.windowSeq = 0, now, l.seq
	}
	l.windowBits += bytes * 8
}

// silentFor is how long the layer sent nothing before now (0 before its
// first packet).
func (l *layer) silentFor(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lastPacket.IsZero() {
		return 0
	}
	return now.Sub(l.lastPacket)
}

// state says the layer's bitrate, how long it has been silent and
// whether it is alive (sent within layerStale) at now. Before
// its first full window the bitrate is read from what has come so far,
// and, for its first 300 ms, is unmeasured: a layer the publisher has
// just switched on is not chosen by a bitrate it has not shown yet (it
// starts with its largest frame, a keyframe).
func (l *layer) state(now time.Time) (bitrate int, silent time.Duration, alive bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	silent = now.Sub(l.lastPacket)
	alive = !l.lastPacket.IsZero() && silent < layerStale
	switch {
	case l.bitrate > 0:
		return l.bitrate, silent, alive
	case now.Sub(l.windowAt) >= bitrateWindow*3/10:
		return int(float64(l.windowBits) / now.Sub(l.windowAt).Seconds()), silent, alive
	default:
		return unmeasured, silent, alive
	}
}

// unmeasured is the bitrate of a layer too new to measure: more than any
// budget.
const unmeasured = 1 << 40

// upTrack is one track a participant publishes: its audio, its camera or
// its screen share, with up to three simulcast layers.
type upTrack struct {
	id        string // the forwarded track's id: "<kind>-<n>"
	publisher *Participant
	kind      webrtc.RTPCodecType
	codec     webrtc.RTPCodecParameters
	screen    bool
	audioExt  uint8 // header extension id of the audio level, 0 if none

	// Counters for the track's metrics: packets written to subscribers,
	// the time spent writing them, keyframe requests sent.
	forwarded   atomic.Uint64
	forwardTime atomic.Int64 // nanoseconds
	plisSent    atomic.Uint64

	// reading counts the layers still being read; when the last one
	// ends while the publisher stays (a stopped screen share), the track
	// is unpublished.
	reading atomic.Int32

	mu     sync.RWMutex
	layers [len3]*layer
	downs  map[*downTrack]struct{}
	closed bool
}

const len3 = 3

func newUpTrack(p *Participant, id string, t *webrtc.TrackRemote, r *webrtc.RTPReceiver) *upTrack {
	u := &upTrack{id: id, publisher: p, kind: t.Kind(), codec: t.Codec(), downs: map[*downTrack]struct{}{}}
	for _, ext := range r.GetParameters().HeaderExtensions {
		if ext.URI == sdp.AudioLevelURI {
			u.audioExt = uint8(ext.ID) //nolint:gosec // negotiated ids are 1..14
		}
	}
	return u
}

// addLayer starts reading one layer; it runs until the track ends.
func (u *upTrack) addLayer(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	l := &layer{index: layerIndex(t.RID()), track: t}
	if u.kind == webrtc.RTPCodecTypeVideo {
		l.history = &history{}
	}
	u.mu.Lock()
	u.layers[l.index] = l
	u.mu.Unlock()
	u.reading.Add(1)
	go func() {
		u.read(l)
		if u.reading.Add(-1) == 0 {
			u.publisher.unpublish(u)
		}
	}()
	go readReports(t, r)
	u.requestKeyframe(l) // subscribers waiting for this layer start sooner
}

func (u *upTrack) read(l *layer) {
	m := u.publisher.room.metrics
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := l.track.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				u.publisher.room.log.Debug().Err(err).Msg("Stopped reading a published track")
			}
			return
		}
		start := time.Now()
		info, err := inspectRTP(buf[:n], &pkt, u.kind, u.codec.MimeType, u.audioExt)
		if err != nil {
			m.malformed.Inc()
			continue
		}
		if gap := l.silentFor(start); gap > resumeAfter {
			// The publisher's layer comes back after a gap (its network
			// dropped out): whoever receives it lost the reference chain.
			u.requestKeyframe(l)
		}
		l.record(start, buf[:n], pkt.SequenceNumber)
		if info.hasLevel {
			u.publisher.room.speakers.observe(u.publisher, info.level, info.voice, start)
		}
		key := info.keyframe
		u.mu.RLock()
		forwarded := 0
		for d := range u.downs {
			if d.write(l.index, &pkt, key, start) {
				forwarded++
			}
		}
		u.mu.RUnlock()
		took := time.Since(start)
		if forwarded > 0 {
			u.forwarded.Add(uint64(forwarded))
			u.forwardTime.Add(int64(took))
		}
		m.observeForward(u.kind, forwarded, took)
	}
}

// requestKeyframe asks the publisher for a keyframe on a layer, at most
// once per pliThrottle.
func (u *upTrack) requestKeyframe(l *layer) {
	if l == nil || u.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastPLI.Load()
	if now-last < int64(pliThrottle) || !l.lastPLI.CompareAndSwap(last, now) {
		return
	}
	u.publisher.room.metrics.pliSent.Inc()
	u.plisSent.Add(1)
	_ = u.publisher.peer.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(l.track.SSRC())}})
}

// layerAt returns layer i or nil.
func (u *upTrack) layerAt(i int) *layer {
	u.mu.RLock()
	defer u.mu.RUnlock()
	if i < 0 || i >= len3 {
		return nil
	}
	return u.layers[i]
}

// layerStates lists, per layer index, the bitrate and whether it is
// alive. A layer is dead after layerStale of silence, and sooner, after
// layerPaused, while a layer below it still sends: simulcast layers carry
// the same frames, so that silence is the publisher having switched the
// layer off (its bandwidth estimate fell), and a subscriber on it would
// see a frozen picture until it moved down.
func (u *upTrack) layerStates(now time.Time) (rates [len3]int, alive [len3]bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	var silent [len3]time.Duration
	for i, l := range u.layers {
		if l != nil {
			rates[i], silent[i], alive[i] = l.state(now)
		}
	}
	for i := 1; i < len3; i++ {
		for j := range i {
			if alive[i] && alive[j] && silent[i] >= layerPaused && silent[j] < layerPaused/4 {
				alive[i] = false
			}
		}
	}
	return rates, alive
}

func (u *upTrack) subscribe(d *downTrack) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.closed {
		u.downs[d] = struct{}{}
	}
}

func (u *upTrack) unsubscribe(d *downTrack) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.downs, d)
}

// close detaches all subscribers and returns them.
func (u *upTrack) close() []*downTrack {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	out := make([]*downTrack, 0, len(u.downs))
	for d := range u.downs {
		out = append(out, d)
	}
	clear(u.downs)
	return out
}

// isScreen: a page marks its screen share by a MediaStream id that starts
// with "screen" (docs/video.md).
func isScreen(streamID string) bool {
	return len(streamID) >= 6 && streamID[:6] == "screen"
}
