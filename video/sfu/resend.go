package sfu

import (
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// Resends. A subscriber's NACK names sequence numbers of its stream; the
// downTrack maps each back to the layer and the publisher's sequence
// number it came from and sends that packet again from the layer's
// history, which all subscribers share (one copy per published packet,
// not one per subscriber as pion's NACK responder keeps).

// historySize is the packets a layer keeps for resends: at 500 packets/s
// (a 4 Mbit/s layer) about a second, far beyond any round trip a resend
// still helps with.
const historySize = 512

// maxResendsPerNACK bounds what one NACK can make the server send.
const maxResendsPerNACK = 64

// history is a layer's ring of recent packets, indexed by sequence number.
// It is guarded by the layer's mutex.
type history struct {
	seq  [historySize]uint16
	ok   [historySize]bool
	data [historySize][]byte
}

func (h *history) put(seq uint16, raw []byte) {
	i := int(seq) % historySize
	h.seq[i], h.ok[i] = seq, true
	h.data[i] = append(h.data[i][:0], raw...)
}

// get copies the packet with seq into dst, or reports false when it is no
// longer (or never was) kept.
func (h *history) get(seq uint16, dst []byte) ([]byte, bool) {
	i := int(seq) % historySize
	if !h.ok[i] || h.seq[i] != seq {
		return nil, false
	}
	return append(dst[:0], h.data[i]...), true
}

// segment is a stretch of a subscriber's stream forwarded from one layer:
// from outgoing sequence number start on, outgoing = incoming + seqOff and
// the timestamp moved by tsOff.
type segment struct {
	start  uint16
	layer  int
	seqOff uint16
	tsOff  uint32
	vp8Off vp8Numbers
}

// segmentsKept is how many layer switches a downTrack remembers for
// resends: more than happen within a round trip.
const segmentsKept = 4

// findSegment returns the segment an outgoing sequence number belongs to.
// segs is oldest first.
func findSegment(segs []segment, out uint16) (segment, bool) {
	for i := len(segs) - 1; i >= 0; i-- {
		if d := out - segs[i].start; d < 1<<15 {
			return segs[i], true
		}
	}
	return segment{}, false
}

// resend answers a subscriber's NACKs for this track.
func (d *downTrack) resend(nacks []*rtcp.TransportLayerNack) {
	var wanted []uint16
	d.mu.Lock()
	ssrc := d.ssrc
	d.mu.Unlock()
	for _, n := range nacks {
		if n.MediaSSRC != ssrc {
			continue
		}
		for _, pair := range n.Nacks {
			for _, seq := range pair.PacketList() {
				if len(wanted) < maxResendsPerNACK {
					wanted = append(wanted, seq)
				}
			}
		}
	}
	if len(wanted) == 0 {
		return
	}
	buf := make([]byte, 0, 1500)
	var pkt rtp.Packet
	for _, out := range wanted {
		d.mu.Lock()
		seg, ok := findSegment(d.segments, out)
		if ok && len(d.segments) > 0 {
			// After a switch down (the path was short of bandwidth) the
			// old layer's packets are of no use any more: the
			// subscriber decodes on from the new layer's keyframe, and a
			// resend would only take the bandwidth that keyframe needs.
			latest := d.segments[len(d.segments)-1]
			ok = seg.start == latest.start || latest.layer >= seg.layer
		}
		d.mu.Unlock()
		l := d.up.layerAt(seg.layer)
		if !ok || l == nil || l.history == nil {
			continue
		}
		l.mu.Lock()
		raw, found := l.history.get(out-seg.seqOff, buf)
		l.mu.Unlock()
		if !found || pkt.Unmarshal(raw) != nil {
			continue
		}
		d.mu.Lock()
		if d.bound && d.writer != nil {
			h := pkt.Header
			h.SSRC, h.PayloadType, h.SequenceNumber, h.Timestamp = ssrc, d.pt, out, h.Timestamp+seg.tsOff
			h.Extension, h.Extensions, h.ExtensionProfile = false, nil, 0
			payload := pkt.Payload
			if d.vp8 {
				payload, _, _ = rewriteVP8(payload, nil, seg.vp8Off)
			}
			if _, err := d.writer.WriteRTP(&h, payload); err == nil {
				d.resent++
			}
		}
		d.mu.Unlock()
	}
}
