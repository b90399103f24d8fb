package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type recordingWriter struct{ headers []rtp.Header }

func (w *recordingWriter) WriteRTP(h *rtp.Header, _ []byte) (int, error) {
	w.headers = append(w.headers, *h)
	return 0, nil
}
func (w *recordingWriter) Write([]byte) (int, error) { return 0, nil }

func testDown(t *testing.T) (*downTrack, *recordingWriter) {
	t.Helper()
	r := &Room{metrics: NewMetrics(nil).forRoom()}
	pub := &Participant{room: r}
	up := &upTrack{kind: webrtc.RTPCodecTypeVideo, publisher: pub,
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}}}
	w := &recordingWriter{}
	d := newDownTrack(up, &Participant{room: r, JoinedAt: time.Now()})
	d.bound, d.writer, d.ssrc, d.pt = true, w, 4242, 100
	return d, w
}

func vp8(seq uint16, ts uint32, key bool) (*rtp.Packet, bool) {
	payload := []byte{0x10, 0x01}
	if key {
		payload[1] = 0x00
	}
	p := &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts, SSRC: 1, PayloadType: 96}, Payload: payload}
	_ = p.SetExtension(4, []byte{1})
	return p, key
}

// TestDownTrackSwitchesAtKeyframes: nothing before the first keyframe of
// the wanted layer; a switch waits for a keyframe of the new layer while
// the old one goes on; sequence numbers stay continuous, timestamps move
// forward, the publisher's SSRC, payload type and extensions never leak.
func TestDownTrackSwitchesAtKeyframes(t *testing.T) {
	d, w := testDown(t)
	now := time.Now()
	d.target = 0
	write := func(layer int, seq uint16, ts uint32, key bool) bool {
		p, k := vp8(seq, ts, key)
		now = now.Add(10 * time.Millisecond)
		return d.write(layer, p, k, now)
	}
	assert.False(t, write(0, 100, 1000, false), "no forwarding before a keyframe")
	assert.False(t, write(1, 500, 7000, true), "not a wanted layer")
	assert.True(t, write(0, 101, 1000, true))
	assert.True(t, write(0, 102, 1000, false))
	assert.True(t, write(0, 103, 4000, false))

	d.target = 1
	assert.False(t, write(1, 501, 9000, false), "no switch on an interframe")
	assert.True(t, write(0, 104, 7000, false), "the old layer goes on until the switch")
	assert.True(t, write(1, 502, 12000, true), "the switch happens at the new layer's keyframe")
	assert.False(t, write(0, 105, 10000, false), "the old layer stops after the switch")
	assert.True(t, write(1, 503, 12000, false))
	assert.False(t, write(1, 499, 6000, false), "a late packet from before the switch is dropped")

	require.Len(t, w.headers, 6)
	for i, h := range w.headers {
		assert.Equal(t, uint32(4242), h.SSRC)
		assert.Equal(t, uint8(100), h.PayloadType)
		assert.False(t, h.Extension)
		if i > 0 {
			assert.Equal(t, w.headers[i-1].SequenceNumber+1, h.SequenceNumber, "continuous sequence numbers")
			assert.GreaterOrEqual(t, int32(h.Timestamp-w.headers[i-1].Timestamp), int32(0), "timestamps never go back")
		}
	}
	assert.Equal(t, w.headers[3].Timestamp+900, w.headers[4].Timestamp, "10 ms later in 90 kHz")
	cur, _ := d.layers()
	assert.Equal(t, 1, cur)
}

func TestPickLayer(t *testing.T) {
	d, _ := testDown(t)
	now := time.Now()
	up := d.up
	for i, rate := range []int{150_000, 500_000, 1_200_000} {
		l := &layer{index: i, bitrate: rate, lastPacket: now}
		up.layers[i] = l
	}
	d.current, d.target = 0, 0
	assert.Equal(t, 2, pickLayer(d, 3_000_000, now), "plenty: the full layer")
	assert.Equal(t, 1, pickLayer(d, 700_000, now))
	assert.Equal(t, 0, pickLayer(d, 300_000, now), "300 kbit/s: the lowest layer")
	assert.Equal(t, 0, pickLayer(d, 50_000, now), "too little for any: still the lowest, never nothing")
	d.current = 1
	assert.Equal(t, 1, pickLayer(d, 500_000, now), "staying needs no headroom")
	d.current = 0
	d.probed = now // a probe was just tried
	assert.Equal(t, 0, pickLayer(d, 500_000, now), "going up needs 15 % headroom")
	d.probed = time.Time{}
	assert.Equal(t, 1, pickLayer(d, 500_000, now), "a layer that nearly fits is tried now and then")
	assert.Equal(t, 0, pickLayer(d, 500_000, now), "but not again at once")
	// The try is kept while the estimate grows towards it, not dropped
	// because the estimate has not caught up yet.
	// (at moves the clock, the layers' packets with it)
	at := func(dt time.Duration) time.Time {
		for _, l := range up.layers {
			l.lastPacket = now.Add(dt)
		}
		return now.Add(dt)
	}
	d.target = 1
	assert.Equal(t, 1, pickLayer(d, 480_000, at(time.Second)), "a try holds while the estimate does not fall")
	assert.Equal(t, 0, pickLayer(d, 400_000, at(time.Second)), "a try ends when the estimate falls")
	assert.Equal(t, 0, pickLayer(d, 480_000, at(probeHold)), "and after probeHold")
	d.current = 1
	assert.Equal(t, 1, pickLayer(d, 500_000, at(probeHold)), "a try that fits stays")
	d.current, d.target = 0, 0
	at(0)
	d.probed = time.Time{}
	assert.Equal(t, 0, pickLayer(d, 300_000, now), "a layer far above the estimate is not tried")
	d.probed = now
	up.layers[2].lastPacket = now.Add(-2 * time.Second)
	assert.Equal(t, 1, pickLayer(d, 3_000_000, now), "a paused layer is not chosen")
	up.layers[2].lastPacket = now.Add(-layerPaused)
	d.current, d.target = 2, 2
	assert.Equal(t, 1, pickLayer(d, 3_000_000, now), "switched off by its publisher while the lower layers send: down at once")
	up.layers[2].lastPacket = now.Add(-layerPaused / 2)
	assert.Equal(t, 2, pickLayer(d, 3_000_000, now), "a shorter gap is a slow frame, not a pause")
	for _, l := range up.layers {
		l.lastPacket = now.Add(-2 * layerPaused)
	}
	assert.Equal(t, 2, pickLayer(d, 3_000_000, now), "all layers quiet alike (a still screen): stay")
	at(0)
	d.current, d.wentDown = 0, now.Add(-time.Second)
	assert.Equal(t, 0, pickLayer(d, 3_000_000, now), "no climbing right after going down")
	d.wentDown = now.Add(-upHoldoff)
	assert.Equal(t, 2, pickLayer(d, 3_000_000, now), "climbing again after the hold-off")

	// A layer the publisher has just switched on shows its bitrate first.
	d.current, d.target, d.wentDown = 0, 0, time.Time{}
	d.probed = now
	up.layers[2] = &layer{index: 2, lastPacket: now, windowAt: now.Add(-100 * time.Millisecond), windowBits: 1_000_000}
	assert.Equal(t, 1, pickLayer(d, 3_000_000, now), "unmeasured for its first 300 ms: not chosen")
	up.layers[2].windowAt = now.Add(-500 * time.Millisecond)
	assert.Equal(t, 1, pickLayer(d, 1_500_000, now), "then its rate so far counts (2 Mbit/s here, over 500 ms)")
	assert.Equal(t, 2, pickLayer(d, 3_000_000, now))
}
