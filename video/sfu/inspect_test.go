package sfu

import (
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rtpBytes(tb testing.TB, payload []byte, ext map[uint8][]byte) []byte {
	tb.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, Timestamp: 90000, SSRC: 1}, Payload: payload}
	for id, v := range ext {
		require.NoError(tb, p.SetExtension(id, v))
	}
	raw, err := p.Marshal()
	require.NoError(tb, err)
	return raw
}

func TestKeyframeDetection(t *testing.T) {
	for name, tc := range map[string]struct {
		mime    string
		payload []byte
		key     bool
	}{
		"vp8 keyframe start":                 {webrtc.MimeTypeVP8, []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}, true},
		"vp8 interframe":                     {webrtc.MimeTypeVP8, []byte{0x10, 0x01}, false},
		"vp8 keyframe continuation":          {webrtc.MimeTypeVP8, []byte{0x00, 0x00}, false},
		"vp8 with 15-bit picture id, key":    {webrtc.MimeTypeVP8, []byte{0x90, 0x80, 0x81, 0x23, 0x00}, true},
		"vp8 with picture id, tl0, tid, key": {webrtc.MimeTypeVP8, []byte{0x90, 0xe0, 0x12, 0x05, 0x40, 0x00}, true},
		"vp8 truncated descriptor":           {webrtc.MimeTypeVP8, []byte{0x90, 0x80, 0x81}, false},
		"vp8 empty":                          {webrtc.MimeTypeVP8, nil, false},
		"h264 idr":                           {webrtc.MimeTypeH264, []byte{0x65, 0x88}, true},
		"h264 sps":                           {webrtc.MimeTypeH264, []byte{0x67, 0x42}, true},
		"h264 non-idr slice":                 {webrtc.MimeTypeH264, []byte{0x41, 0x9a}, false},
		"h264 stap-a with sps":               {webrtc.MimeTypeH264, []byte{0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		"h264 stap-a overrunning size":       {webrtc.MimeTypeH264, []byte{0x18, 0x00, 0x09, 0x67}, false},
		"h264 fu-a idr start":                {webrtc.MimeTypeH264, []byte{0x7c, 0x85, 0x00}, true},
		"h264 fu-a idr middle":               {webrtc.MimeTypeH264, []byte{0x7c, 0x05, 0x00}, false},
		"opus is never a keyframe":           {webrtc.MimeTypeOpus, []byte{0x10, 0x00}, false},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.key, isKeyframeStart(tc.mime, tc.payload))
		})
	}
}

func TestInspectReadsAudioLevel(t *testing.T) {
	var pkt rtp.Packet
	info, err := inspectRTP(rtpBytes(t, []byte{1, 2}, map[uint8][]byte{3: {0x80 | 30}}), &pkt, webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus, 3)
	require.NoError(t, err)
	assert.True(t, info.hasLevel)
	assert.True(t, info.voice)
	assert.Equal(t, uint8(30), info.level)
	info, err = inspectRTP(rtpBytes(t, []byte{1, 2}, nil), &pkt, webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus, 3)
	require.NoError(t, err)
	assert.False(t, info.hasLevel)
	_, err = inspectRTP([]byte{0x80}, &pkt, webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8, 0)
	assert.Error(t, err, "a truncated header is refused")
}

func TestInspectRTCP(t *testing.T) {
	raw, err := rtcp.Marshal([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: 1},
		&rtcp.TransportLayerNack{MediaSSRC: 1, Nacks: []rtcp.NackPair{{PacketID: 5}, {PacketID: 9}}}})
	require.NoError(t, err)
	info, err := inspectRTCP(raw)
	require.NoError(t, err)
	assert.True(t, info.keyframe)
	assert.Equal(t, 2, info.nacks)
	_, err = inspectRTCP([]byte{0x81, 0xc8})
	assert.Error(t, err)
}

// FuzzInspectRTP: whatever a publisher sends, parsing and keyframe and
// audio level reading neither panic nor read out of bounds.
func FuzzInspectRTP(f *testing.F) {
	f.Add(rtpBytes(f, []byte{0x10, 0x00, 0x9d}, nil), true)
	f.Add(rtpBytes(f, []byte{0x90, 0xe0, 0x12, 0x05, 0x40, 0x00}, nil), true)
	f.Add(rtpBytes(f, []byte{0x18, 0x00, 0x02, 0x67, 0x42}, nil), false)
	f.Add(rtpBytes(f, []byte{0x7c, 0x85}, map[uint8][]byte{3: {0x9e}}), false)
	f.Add([]byte{0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 9}, false)
	f.Fuzz(func(t *testing.T, raw []byte, vp8 bool) {
		var pkt rtp.Packet
		mime := webrtc.MimeTypeH264
		if vp8 {
			mime = webrtc.MimeTypeVP8
		}
		_, _ = inspectRTP(raw, &pkt, webrtc.RTPCodecTypeVideo, mime, 0)
		_, _ = inspectRTP(raw, &pkt, webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus, 3)
	})
}

// FuzzInspectRTCP: whatever a subscriber sends as RTCP.
func FuzzInspectRTCP(f *testing.F) {
	for _, p := range [][]rtcp.Packet{
		{&rtcp.PictureLossIndication{MediaSSRC: 1}},
		{&rtcp.FullIntraRequest{MediaSSRC: 1, FIR: []rtcp.FIREntry{{SSRC: 1}}}},
		{&rtcp.TransportLayerNack{MediaSSRC: 1, Nacks: []rtcp.NackPair{{PacketID: 1, LostPackets: 0xffff}}}},
		{&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 2}}}},
		{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 1e6, SSRCs: []uint32{1}}},
	} {
		raw, err := rtcp.Marshal(p)
		require.NoError(f, err)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _ = inspectRTCP(raw)
	})
}
