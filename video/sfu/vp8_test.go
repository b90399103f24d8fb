package sfu

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vp8Full is a VP8 packet with the descriptor browsers send: a 15-bit
// PictureID, TL0PICIDX and TID/KEYIDX.
func vp8Full(seq uint16, ts uint32, pic uint16, tl0, keyIdx uint8, key bool) *rtp.Packet {
	hdr := byte(0x01) // P bit: an interframe
	if key {
		hdr = 0x00
	}
	payload := []byte{0x90, 0xF0, 0x80 | byte(pic>>8), byte(pic), tl0, keyIdx & 0x1F, hdr, 0xAB}
	return &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts, SSRC: 1, PayloadType: 96}, Payload: payload}
}

func TestParseVP8Fields(t *testing.T) {
	f, ok := parseVP8Fields(vp8Full(1, 1, 300, 7, 3, true).Payload)
	require.True(t, ok)
	assert.Equal(t, vp8Fields{picAt: 2, tl0At: 4, keyAt: 5}, f)
	assert.Equal(t, vp8Numbers{pic: 300, tl0: 7, key: 3}, f.read(vp8Full(1, 1, 300, 7, 3, true).Payload))

	f, ok = parseVP8Fields([]byte{0x90, 0x80, 0x12, 0x00}) // 7-bit PictureID
	require.True(t, ok)
	assert.Equal(t, vp8Fields{picAt: -1, tl0At: -1, keyAt: -1}, f, "a 7-bit PictureID is left alone")
	_, ok = parseVP8Fields([]byte{0x90, 0xC0, 0x80}) // cut short
	assert.False(t, ok)
	_, ok = parseVP8Fields(nil)
	assert.False(t, ok)

	full := vp8Full(1, 1, 300, 7, 3, true).Payload
	same, n, ok := rewriteVP8(full, make([]byte, 0, 64), vp8Numbers{})
	require.True(t, ok)
	assert.Same(t, &full[0], &same[0], "no offset (no switch yet): not copied")
	assert.Equal(t, vp8Numbers{pic: 300, tl0: 7, key: 3}, n)

	out, n, ok := rewriteVP8([]byte{0x10, 0x00}, nil, vp8Numbers{pic: 5})
	assert.False(t, ok, "no extension: nothing to rewrite")
	assert.Equal(t, []byte{0x10, 0x00}, out)
	assert.Zero(t, n)
}

// TestVP8NumbersFollowOnAcrossSwitches: whatever the layers' own
// numbers, the subscriber sees PictureID, TL0PICIDX and KEYIDX go on by
// one at each switch (wrapping at 15, 8 and 5 bits), and the publisher's
// payload shared with other subscribers stays as it was.
func TestVP8NumbersFollowOnAcrossSwitches(t *testing.T) {
	d, w, send := historyDown(t)
	d.vp8 = true
	write := func(layer int, p *rtp.Packet, key bool) {
		require.True(t, send(layer, p, key))
	}
	d.target = 0
	write(0, vp8Full(10, 1000, 32766, 255, 31, true), true)
	write(0, vp8Full(11, 4000, 32767, 255, 31, false), false)
	d.target = 1
	shared := vp8Full(500, 7000, 20, 90, 4, true)
	before := append([]byte(nil), shared.Payload...)
	write(1, shared, true)
	write(1, vp8Full(501, 10000, 21, 90, 4, false), false)
	write(1, vp8Full(502, 13000, 22, 91, 4, false), false)
	assert.Equal(t, before, shared.Payload, "the publisher's payload is not touched")
	// A resend carries the numbers the packet had when it was forwarded.
	d.resend(nackFor(4242, w.headers[3].SequenceNumber))
	require.Len(t, w.payloads, 6)
	assert.Equal(t, w.payloads[3], w.payloads[5], "resent as forwarded")
	w.headers, w.payloads = w.headers[:5], w.payloads[:5]
	d.target = 0
	write(0, vp8Full(12, 16000, 0, 0, 0, true), true)

	var got []vp8Numbers
	for _, p := range w.payloads {
		f, ok := parseVP8Fields(p)
		require.True(t, ok)
		got = append(got, f.read(p))
	}
	assert.Equal(t, []vp8Numbers{
		{pic: 32766, tl0: 255, key: 31},
		{pic: 32767, tl0: 255, key: 31},
		{pic: 0, tl0: 0, key: 0}, // the switch: each goes on by one, wrapping
		{pic: 1, tl0: 0, key: 0},
		{pic: 2, tl0: 1, key: 0},
		{pic: 3, tl0: 2, key: 1}, // and back down
	}, got)
	for _, p := range w.payloads {
		assert.Equal(t, byte(0x80), p[2]&0x80, "the PictureID stays 15 bits")
	}
}
