package sfu

// VP8 picture numbering across layer switches. Each simulcast layer of a
// VP8 track numbers its pictures on its own (RFC 7741 §4.2: PictureID,
// TL0PICIDX, KEYIDX), so a switch makes the numbers a subscriber sees
// jump, often backwards. A receiver orders frames by PictureID: a jump
// back looks like frames it has already decoded, and it drops them and
// asks for a keyframe; a jump forward looks like thousands of missing
// frames. So, as sequence numbers and timestamps, the numbers are
// rewritten to go on from the last one forwarded.

// vp8Fields locates the numbering in a VP8 payload descriptor: the
// offsets of the 15-bit PictureID (picAt), TL0PICIDX (tl0At) and the
// TID/Y/KEYIDX byte (keyAt), each -1 when absent. A 7-bit PictureID is
// not rewritten (it cannot grow to 15 bits in place); browsers send 15.
type vp8Fields struct {
	picAt, tl0At, keyAt int
}

func parseVP8Fields(p []byte) (f vp8Fields, ok bool) {
	f = vp8Fields{picAt: -1, tl0At: -1, keyAt: -1}
	if len(p) < 1 || p[0]&0x80 == 0 {
		return f, len(p) > 0
	}
	if len(p) < 2 {
		return f, false
	}
	x := p[1]
	i := 2
	if x&0x80 != 0 { // I: PictureID
		if len(p) <= i {
			return f, false
		}
		if p[i]&0x80 != 0 { // M: 15 bits
			f.picAt = i
			i++
		}
		i++
	}
	if x&0x40 != 0 { // L: TL0PICIDX
		f.tl0At = i
		i++
	}
	if x&0x30 != 0 { // T or K: TID/Y/KEYIDX
		f.keyAt = i
		i++
	}
	return f, len(p) >= i
}

// vp8Numbers are a picture's numbers (or the offsets added to them).
type vp8Numbers struct {
	pic uint16 // 15 bits
	tl0 uint8
	key uint8 // 5 bits
}

func (f vp8Fields) read(p []byte) (n vp8Numbers) {
	if f.picAt >= 0 {
		n.pic = uint16(p[f.picAt]&0x7F)<<8 | uint16(p[f.picAt+1])
	}
	if f.tl0At >= 0 {
		n.tl0 = p[f.tl0At]
	}
	if f.keyAt >= 0 {
		n.key = p[f.keyAt] & 0x1F
	}
	return n
}

// write puts the numbers read plus off back into p.
func (f vp8Fields) write(p []byte, n vp8Numbers) {
	if f.picAt >= 0 {
		p[f.picAt] = 0x80 | byte(n.pic>>8)&0x7F
		p[f.picAt+1] = byte(n.pic)
	}
	if f.tl0At >= 0 {
		p[f.tl0At] = n.tl0
	}
	if f.keyAt >= 0 {
		p[f.keyAt] = p[f.keyAt]&0xE0 | n.key&0x1F
	}
}

func (n vp8Numbers) plus(off vp8Numbers) vp8Numbers {
	return vp8Numbers{pic: (n.pic + off.pic) & 0x7FFF, tl0: n.tl0 + off.tl0, key: (n.key + off.key) & 0x1F}
}

// vp8Offsets are what to add to a layer's numbers, from its keyframe in
// so that they follow last (the numbers last forwarded).
func vp8Offsets(keyframe, last vp8Numbers) vp8Numbers {
	return vp8Numbers{
		pic: (last.pic + 1 - keyframe.pic) & 0x7FFF,
		tl0: last.tl0 + 1 - keyframe.tl0,
		key: (last.key + 1 - keyframe.key) & 0x1F,
	}
}

// rewriteVP8 copies payload into buf with its numbers moved by off and
// returns the copy and the numbers it now carries. With nothing to move
// (no offset: no switch yet) the payload comes back as it is, uncopied;
// so does one without a descriptor to rewrite (ok false).
func rewriteVP8(payload, buf []byte, off vp8Numbers) (out []byte, n vp8Numbers, ok bool) {
	f, ok := parseVP8Fields(payload)
	if !ok || (f.picAt < 0 && f.tl0At < 0 && f.keyAt < 0) {
		return payload, n, false
	}
	n = f.read(payload).plus(off)
	if off == (vp8Numbers{}) {
		return payload, n, true
	}
	out = append(buf[:0], payload...)
	f.write(out, n)
	return out, n, true
}
