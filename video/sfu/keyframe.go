package sfu

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// isKeyframeStart reports whether an RTP payload of the codec starts a
// keyframe: the only place a subscriber may switch to another simulcast
// layer or start receiving video without a freeze. It reads at most a few
// bytes and never panics on short or malformed payloads.
func isKeyframeStart(mime string, payload []byte) bool {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		return vp8KeyframeStart(payload)
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		return h264KeyframeStart(payload)
	}
	return false
}

// vp8KeyframeStart reads the VP8 payload descriptor (RFC 7741 §4.2) and,
// on the first packet of a partition 0, the P bit of the VP8 payload
// header (§4.3): 0 is a keyframe.
func vp8KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	b0 := p[0]
	start, pid := b0&0x10 != 0, b0&0x07
	i := 1
	if b0&0x80 != 0 { // X: extended control bits
		if len(p) <= i {
			return false
		}
		x := p[i]
		i++
		if x&0x80 != 0 { // I: PictureID
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 { // M: 15-bit PictureID
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	if !start || pid != 0 || len(p) <= i {
		return false
	}
	return p[i]&0x01 == 0
}

// h264KeyframeStart looks for an IDR slice or a sequence parameter set at
// the start of an RTP payload (RFC 6184): a single NAL unit, the NAL units
// of a STAP-A, or the first fragment of an FU-A.
func h264KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	const (
		nalIDR  = 5
		nalSPS  = 7
		nalSTAP = 24
		nalFUA  = 28
	)
	switch t := p[0] & 0x1F; t {
	case nalIDR, nalSPS:
		return true
	case nalSTAP:
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			i += 2
			if size == 0 || i+size > len(p) {
				return false
			}
			if nt := p[i] & 0x1F; nt == nalIDR || nt == nalSPS {
				return true
			}
			i += size
		}
	case nalFUA:
		if len(p) < 2 {
			return false
		}
		return p[1]&0x80 != 0 && p[1]&0x1F == nalIDR
	}
	return false
}
