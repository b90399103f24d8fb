package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// payloadWriter records headers and payloads.
type payloadWriter struct {
	headers  []rtp.Header
	payloads [][]byte
}

func (w *payloadWriter) WriteRTP(h *rtp.Header, p []byte) (int, error) {
	w.headers = append(w.headers, *h)
	w.payloads = append(w.payloads, append([]byte(nil), p...))
	return 0, nil
}
func (w *payloadWriter) Write([]byte) (int, error) { return 0, nil }

// TestResendsFromTheSharedHistory: a NACK for packets forwarded before
// and after a layer switch resends each from its layer's history, under
// the subscriber's sequence number and timestamp; packets never
// forwarded, or too old, are not resent, and another SSRC's NACK is
// ignored.
func TestResendsFromTheSharedHistory(t *testing.T) {
	d, w, write := historyDown(t)
	send := func(li int, seq uint16, ts uint32, key bool) {
		p, k := vp8(seq, ts, key)
		p.Payload = append(p.Payload, byte(li), byte(seq))
		write(li, p, k)
	}
	d.target = 0
	send(0, 100, 1000, true)
	send(0, 101, 1000, false)
	d.target = 1
	send(1, 7000, 50000, true)
	send(1, 7001, 50000, false)
	require.Len(t, w.headers, 4)
	out := func(i int) uint16 { return w.headers[i].SequenceNumber }

	d.resend(nackFor(4242, out(1), out(3), out(3)+1))
	require.Len(t, w.headers, 6, "two resends; the packet never sent is not")
	for i, want := range []int{1, 3} {
		got := w.headers[4+i]
		assert.Equal(t, w.headers[want].SequenceNumber, got.SequenceNumber)
		assert.Equal(t, w.headers[want].Timestamp, got.Timestamp)
		assert.Equal(t, uint32(4242), got.SSRC)
		assert.Equal(t, w.payloads[want], w.payloads[4+i], "the same payload")
		assert.False(t, got.Extension)
	}
	d.resend(nackFor(1, out(1)))
	assert.Len(t, w.headers, 6, "another SSRC's NACK")

	for s := uint16(7002); s < 7002+historySize; s++ {
		send(1, s, 60000, false)
	}
	before := len(w.headers)
	d.resend(nackFor(4242, out(3)))
	assert.Len(t, w.headers, before, "gone from the history")
	assert.Equal(t, 2, d.resent)
}

// TestNoResendsOfTheLayerLeftBehind: after a switch down, NACKs for the
// upper layer's packets go unanswered (they would take the bandwidth the
// lower layer's keyframe needs); the lower layer's packets are resent.
func TestNoResendsOfTheLayerLeftBehind(t *testing.T) {
	d, w, write := historyDown(t)
	send := func(li int, seq uint16, ts uint32, key bool) {
		p, k := vp8(seq, ts, key)
		write(li, p, k)
	}
	d.target = 1
	send(1, 7000, 50000, true)
	send(1, 7001, 50000, false)
	d.target = 0
	send(0, 100, 1000, true)
	send(0, 101, 1000, false)
	require.Len(t, w.headers, 4)
	out := func(i int) uint16 { return w.headers[i].SequenceNumber }
	d.resend(nackFor(4242, out(1), out(3)))
	require.Len(t, w.headers, 5, "one resend")
	assert.Equal(t, out(3), w.headers[4].SequenceNumber, "the lower layer's packet")
	assert.Equal(t, 1, d.resent)
}

// historyDown is a downTrack over two layers that keep histories, and
// write, which records a packet in its layer's history and forwards it,
// 10 ms after the one before.
func historyDown(t *testing.T) (*downTrack, *payloadWriter, func(li int, p *rtp.Packet, key bool) bool) {
	t.Helper()
	d, _ := testDown(t)
	w := &payloadWriter{}
	d.writer = w
	for i := range 2 {
		d.up.layers[i] = &layer{index: i, history: &history{}}
	}
	now := time.Now()
	return d, w, func(li int, p *rtp.Packet, key bool) bool {
		raw, err := p.Marshal()
		require.NoError(t, err)
		d.up.layers[li].record(now, raw, p.SequenceNumber)
		now = now.Add(10 * time.Millisecond)
		return d.write(li, p, key, now)
	}
}

// nackFor is a subscriber's NACK of seqs on ssrc.
func nackFor(ssrc uint32, seqs ...uint16) []*rtcp.TransportLayerNack {
	return []*rtcp.TransportLayerNack{{MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}}
}

func TestFindSegment(t *testing.T) {
	segs := []segment{{start: 65530, layer: 0}, {start: 3, layer: 2}}
	s, ok := findSegment(segs, 65535)
	require.True(t, ok)
	assert.Equal(t, 0, s.layer)
	s, ok = findSegment(segs, 10)
	require.True(t, ok)
	assert.Equal(t, 2, s.layer, "after the wrap-around")
	_, ok = findSegment(segs[1:], 1)
	assert.False(t, ok, "before the first segment")
}
