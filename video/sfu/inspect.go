package sfu

import (
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// What the forwarding reads of a packet from a publisher. Everything a
// participant sends passes through inspectRTP or inspectRTCP before it
// has any effect; both are fuzzed (inspect_test.go).

type rtpInfo struct {
	keyframe        bool
	hasLevel, voice bool
	level           uint8
}

// inspectRTP parses a publisher's RTP packet into pkt and reads whether it
// starts a keyframe (video) or its audio level (audio, RFC 6464, with
// the negotiated extension id; 0 if none).
func inspectRTP(raw []byte, pkt *rtp.Packet, kind webrtc.RTPCodecType, mime string, audioExt uint8) (rtpInfo, error) {
	var info rtpInfo
	if err := pkt.Unmarshal(raw); err != nil {
		return info, err
	}
	switch kind {
	case webrtc.RTPCodecTypeVideo:
		info.keyframe = isKeyframeStart(mime, pkt.Payload)
	case webrtc.RTPCodecTypeAudio:
		if audioExt == 0 {
			break
		}
		if ext := pkt.GetExtension(audioExt); ext != nil {
			var lvl rtp.AudioLevelExtension
			if lvl.Unmarshal(ext) == nil {
				info.hasLevel, info.level, info.voice = true, lvl.Level, lvl.Voice
			}
		}
	default:
	}
	return info, nil
}

// rtcpInfo is what a subscriber's RTCP asks of the forwarding.
type rtcpInfo struct {
	keyframe bool // PLI or FIR
	nacks    int
}

// inspectRTCP parses a subscriber's RTCP compound packet.
func inspectRTCP(raw []byte) (rtcpInfo, error) {
	var info rtcpInfo
	pkts, err := rtcp.Unmarshal(raw)
	if err != nil {
		return info, err
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			info.keyframe = true
		case *rtcp.TransportLayerNack:
			info.nacks += len(p.Nacks)
		}
	}
	return info, nil
}
