package sfu

import (
	"time"

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

// rtcpInfo is what a subscriber's RTCP asks of the forwarding and says
// about its reception.
type rtcpInfo struct {
	keyframe bool // PLI or FIR
	nacks    int
	// nackLists are the NACKs, for the resends.
	nackLists []*rtcp.TransportLayerNack
	// reports are the reception report blocks of receiver and sender
	// reports, for loss and round-trip time.
	reports []rtcp.ReceptionReport
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
			info.nackLists = append(info.nackLists, p)
		case *rtcp.ReceiverReport:
			info.reports = append(info.reports, p.Reports...)
		case *rtcp.SenderReport:
			info.reports = append(info.reports, p.Reports...)
		}
	}
	return info, nil
}

// ntpEpochOffset is the seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// ntpMiddle is the middle 32 bits of t as an NTP timestamp: seconds in
// the upper half, fractions in the lower, as LSR and DLSR count.
func ntpMiddle(t time.Time) uint32 {
	secs := uint64(t.Unix() + ntpEpochOffset)  //nolint:gosec // after 1900
	frac := uint64(t.Nanosecond()) << 32 / 1e9 //nolint:gosec // below 1e9
	return uint32((secs<<32 | frac) >> 16)     //nolint:gosec // the middle 32 bits, by definition
}

// roundTrip computes the round-trip time from a report block that
// arrived at now (RFC 3550, section 6.4.1): now minus the sender report it
// refers to minus the time the receiver held it. It reports false when the
// block refers to no sender report or the result is negative (clock
// steps, forged blocks).
func roundTrip(r rtcp.ReceptionReport, now time.Time) (time.Duration, bool) {
	if r.LastSenderReport == 0 {
		return 0, false
	}
	units := ntpMiddle(now) - r.LastSenderReport - r.Delay
	if int32(units) < 0 { //nolint:gosec // wrap-around compare
		return 0, false
	}
	return time.Duration(uint64(units) * uint64(time.Second) >> 16), true //nolint:gosec // positive by the check above
}
