package sfu

// seqCounter counts a stream's RTP packets and how many it should have
// had, the way RFC 3550 (appendix A.3) does for receiver reports: the
// highest sequence number seen, extended by its wrap-arounds, against the
// packets that arrived. Late and repaired packets count as received, so
// loss is what stayed lost after retransmission.
type seqCounter struct {
	started  bool
	base     uint32
	max      uint16
	cycles   uint32
	received uint64
}

// maxJump is how far ahead a sequence number may be and still be taken
// as the new highest (RFC 3550's MAX_DROPOUT); a packet further ahead or
// behind is counted but does not move the highest.
const maxJump = 3000

func (c *seqCounter) add(seq uint16) {
	c.received++
	if !c.started {
		c.started, c.base, c.max = true, uint32(seq), seq
		return
	}
	if d := seq - c.max; d != 0 && d < maxJump {
		if seq < c.max {
			c.cycles += 1 << 16
		}
		c.max = seq
	}
}

// expected is the number of packets from the first to the highest.
func (c *seqCounter) expected() uint64 {
	if !c.started {
		return 0
	}
	return uint64(c.cycles) + uint64(c.max) - uint64(c.base) + 1
}

// lost is expected minus received, never below zero (duplicates can
// outnumber losses).
func (c *seqCounter) lost() uint64 {
	if e := c.expected(); e > c.received {
		return e - c.received
	}
	return 0
}

// lossBetween is the fraction of packets lost between two readings of one
// counter.
func lossBetween(from, to seqCounter) float64 {
	expected := int64(to.expected()) - int64(from.expected()) //nolint:gosec // counts stay far below 2^63
	received := int64(to.received) - int64(from.received)     //nolint:gosec // as above
	if expected <= 0 || received >= expected {
		return 0
	}
	return float64(expected-received) / float64(expected)
}
