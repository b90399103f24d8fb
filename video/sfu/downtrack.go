package sfu

import (
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// downTrack is one published track as one subscriber receives it. It is
// the subscriber's webrtc.TrackLocal: it picks one simulcast layer at a
// time, switches only at a keyframe of the new layer (so the picture never
// freezes on a half frame), and rewrites sequence numbers and timestamps
// so the subscriber sees one continuous stream.
type downTrack struct {
	up         *upTrack
	subscriber *Participant
	streamID   string
	sender     *webrtc.RTPSender

	mu       sync.Mutex
	bound    bool
	ssrc     uint32
	pt       uint8
	writer   webrtc.TrackLocalWriter
	paused   bool // a committee listener's track not shown (lastn.go)
	current  int  // the layer forwarded now, -1 before the first keyframe
	target   int  // the layer wanted
	seqOff   uint16
	tsOff    uint32
	lastSeq  uint16
	lastTS   uint32
	lastAt   time.Time
	started  bool
	switchAt uint16 // first sequence number (in the current layer) forwarded after a switch
	packets  uint64
	switches int
	nacks    int
	plis     int
	resent   int
	hdr      rtp.Header
	ext      [2]rtp.Extension
	// VP8 picture numbering (vp8.go): the offset of the layer forwarded
	// now, the numbers last forwarded, and a buffer for the rewritten
	// payload.
	vp8     bool
	vp8Off  vp8Numbers
	vp8Last vp8Numbers
	vp8Seen bool
	payload []byte
	// segments map outgoing sequence numbers back to layers, for resends
	// (resend.go); oldest first.
	segments []segment
	// From the subscriber's latest report block on this track: the
	// fraction lost since its previous report, the cumulative loss and
	// the round-trip time (0 until a block refers to a sender report).
	fractionLost float64
	totalLost    uint32
	rtt          time.Duration
	reportAt     time.Time
	wentDown     time.Time // when the forwarded layer last went down
	probed       time.Time // when a layer above the estimate was last tried
	probeLayer   int       // the layer tried then
	probeBudget  int       // and the budget it was tried with
}

func newDownTrack(up *upTrack, sub *Participant) *downTrack {
	return &downTrack{up: up, subscriber: sub, streamID: up.publisher.ID, current: -1, target: -1,
		vp8: up.kind == webrtc.RTPCodecTypeVideo && strings.EqualFold(up.codec.MimeType, webrtc.MimeTypeVP8)}
}

// ID, RID, StreamID and Kind make downTrack a webrtc.TrackLocal.
func (d *downTrack) ID() string                { return d.up.id }
func (d *downTrack) RID() string               { return "" }
func (d *downTrack) StreamID() string          { return d.streamID }
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.up.kind }

var errNoCodec = errors.New("sfu: the subscriber does not accept the track's codec")

// Bind is called by pion once the subscriber's answer is applied.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, d.up.codec.MimeType) && fmtpMatches(c.SDPFmtpLine, d.up.codec.SDPFmtpLine) {
			d.mu.Lock()
			d.bound, d.ssrc, d.pt, d.writer = true, uint32(ctx.SSRC()), uint8(c.PayloadType), ctx.WriteStream()
			target := d.target
			d.mu.Unlock()
			go d.readRTCP(ctx)
			// A keyframe asked for before the subscriber's answer arrived
			// went nowhere: ask again now that it can be forwarded.
			go d.up.requestKeyframe(d.up.layerAt(target))
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, errNoCodec
}

// Unbind is called when the track is removed or the connection closes.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.mu.Lock()
	d.bound, d.writer = false, nil
	d.mu.Unlock()
	return nil
}

// fmtpMatches compares the parameters that make H.264 streams
// incompatible (profile and packetization mode); other codecs match by
// MIME type alone.
func fmtpMatches(a, b string) bool {
	pa, pb := fmtpParams(a), fmtpParams(b)
	for _, k := range []string{"packetization-mode", "profile-level-id"} {
		va, vb := pa[k], pb[k]
		if k == "profile-level-id" && len(va) >= 4 && len(vb) >= 4 {
			va, vb = strings.ToLower(va[:4]), strings.ToLower(vb[:4]) // profile, not level
		}
		if va != vb {
			return false
		}
	}
	return true
}

func fmtpParams(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok {
			m[strings.ToLower(k)] = v
		}
	}
	return m
}

// setTarget sets the layer wanted; the switch happens at that layer's
// next keyframe, which it asks for, and asks again (throttled) while the
// switch waits, since a keyframe may be lost.
func (d *downTrack) setTarget(t int) {
	d.mu.Lock()
	d.target = t
	waiting := d.bound && t != d.current
	d.mu.Unlock()
	if waiting {
		d.up.requestKeyframe(d.up.layerAt(t))
	}
}

// layers reports the layer forwarded now and the one wanted.
func (d *downTrack) layers() (current, target int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.current, d.target
}

// write forwards one packet of layer li if it is the subscriber's layer,
// or switches to li at a keyframe. It reports whether it wrote.
func (d *downTrack) write(li int, pkt *rtp.Packet, keyframe bool, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.bound || d.writer == nil {
		return false
	}
	if d.up.kind == webrtc.RTPCodecTypeAudio {
		return d.forwardLocked(pkt, now)
	}
	if li != d.current {
		if li != d.target || !keyframe {
			return false
		}
		d.switchLocked(li, pkt, now)
	} else if d.started && int16(pkt.SequenceNumber-d.switchAt) < 0 { //nolint:gosec // wrap-around compare
		return false // a late packet of this layer from before we switched to it
	}
	return d.forwardLocked(pkt, now)
}

// switchLocked starts forwarding layer li at pkt: the next outgoing
// sequence number follows the last one, the timestamp moves on by the
// wall-clock time since the last packet.
func (d *downTrack) switchLocked(li int, pkt *rtp.Packet, now time.Time) {
	if d.started {
		d.seqOff = d.lastSeq + 1 - pkt.SequenceNumber
		elapsed := uint32(max(1, now.Sub(d.lastAt).Milliseconds()) * int64(d.up.codec.ClockRate) / 1000) //nolint:gosec // small
		d.tsOff = d.lastTS + elapsed - pkt.Timestamp
		if d.vp8 && d.vp8Seen {
			if f, ok := parseVP8Fields(pkt.Payload); ok {
				d.vp8Off = vp8Offsets(f.read(pkt.Payload), d.vp8Last)
			}
		}
	}
	if !d.started {
		d.subscriber.firstFrame(now)
	}
	if li < d.current {
		d.wentDown = now
	}
	if len(d.segments) == segmentsKept {
		d.segments = append(d.segments[:0], d.segments[1:]...)
	}
	d.segments = append(d.segments, segment{start: pkt.SequenceNumber + d.seqOff, layer: li, seqOff: d.seqOff, tsOff: d.tsOff, vp8Off: d.vp8Off})
	d.current, d.switchAt, d.started = li, pkt.SequenceNumber, true
	d.switches++
}

// mayProbe reports, and records, whether trying layer (the next one up)
// with budget is allowed at now: nothing went down and nothing was tried
// for probeEvery.
func (d *downTrack) mayProbe(now time.Time, layer, budget int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.wentDown) < probeEvery || now.Sub(d.probed) < probeEvery {
		return false
	}
	d.probed, d.probeLayer, d.probeBudget = now, layer, budget
	return true
}

// probing returns the layer being tried, while the try holds at now with
// budget: for at most probeHold, and only while the estimate has not
// fallen below 85 % of what it was when the try began (a fall is the
// path saying no).
func (d *downTrack) probing(now time.Time, budget int) (int, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.probed.IsZero() || now.Sub(d.probed) >= probeHold || budget < d.probeBudget*85/100 {
		return 0, false
	}
	return d.probeLayer, true
}

// downAt is when the forwarded layer last went down (zero if never).
func (d *downTrack) downAt() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wentDown
}

func (d *downTrack) forwardLocked(pkt *rtp.Packet, now time.Time) bool {
	// A copy (the packet goes to other subscribers too), kept in d so it
	// is not allocated per packet; pion uses it only during WriteRTP.
	d.hdr = pkt.Header
	h := &d.hdr
	h.SSRC, h.PayloadType = d.ssrc, d.pt
	h.SequenceNumber += d.seqOff
	h.Timestamp += d.tsOff
	// The publisher's extension ids mean nothing on this connection;
	// pion's interceptors add the ones this connection negotiated (into
	// d.ext, again without allocating).
	h.Extension, h.Extensions, h.ExtensionProfile = false, d.ext[:0], 0
	if !d.started {
		d.started = true
		d.switchAt = pkt.SequenceNumber
	}
	payload := pkt.Payload
	if d.vp8 {
		var n vp8Numbers
		var ok bool
		if payload, n, ok = rewriteVP8(payload, d.payload, d.vp8Off); ok {
			if d.vp8Off != (vp8Numbers{}) {
				d.payload = payload // the buffer, kept for the next packet
			}
			if !d.vp8Seen || (n.pic-d.vp8Last.pic)&0x7FFF < 0x4000 {
				d.vp8Last, d.vp8Seen = n, true
			}
		}
	}
	if _, err := d.writer.WriteRTP(h, payload); err != nil {
		return false
	}
	d.lastSeq, d.lastTS, d.lastAt = h.SequenceNumber, h.Timestamp, now
	d.packets++
	return true
}

// readRTCP handles what the subscriber reports about this track: a
// keyframe request goes to the publisher's layer being forwarded.
func (d *downTrack) readRTCP(ctx webrtc.TrackLocalContext) {
	m := d.up.publisher.room.metrics
	buf := make([]byte, 1500)
	reader := ctx.RTCPReader()
	for {
		n, _, err := reader.Read(buf, nil)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				d.subscriber.room.log.Trace().Err(err).Msg("Stopped reading RTCP of a forwarded track")
			}
			return
		}
		info, err := inspectRTCP(buf[:n])
		if err != nil {
			m.malformed.Inc()
			continue
		}
		if info.nacks > 0 {
			m.nackReceived.Add(float64(info.nacks))
			d.mu.Lock()
			d.nacks += info.nacks
			d.mu.Unlock()
		}
		if len(info.nackLists) > 0 {
			d.resend(info.nackLists)
		}
		if len(info.reports) > 0 {
			d.report(info.reports, time.Now())
		}
		if info.keyframe {
			m.pliReceived.Inc()
			d.mu.Lock()
			d.plis++
			d.mu.Unlock()
			cur, target := d.layers()
			if cur < 0 {
				cur = target
			}
			d.up.requestKeyframe(d.up.layerAt(cur))
		}
	}
}

// report takes the subscriber's report blocks about this track.
func (d *downTrack) report(blocks []rtcp.ReceptionReport, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, b := range blocks {
		if b.SSRC != d.ssrc || !d.bound {
			continue
		}
		d.fractionLost, d.totalLost, d.reportAt = float64(b.FractionLost)/256, b.TotalLost, now
		if rtt, ok := roundTrip(b, now); ok {
			d.rtt = rtt
		}
	}
}
