package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSeqCounterCountsLoss(t *testing.T) {
	for name, tc := range map[string]struct {
		seqs               []uint16
		expected, received uint64
		lost               uint64
	}{
		"in order":                  {[]uint16{10, 11, 12, 13}, 4, 4, 0},
		"one gap":                   {[]uint16{10, 11, 13, 14}, 5, 4, 1},
		"reordered is not lost":     {[]uint16{10, 12, 11, 13}, 4, 4, 0},
		"resent late fills the gap": {[]uint16{10, 12, 13, 11}, 4, 4, 0},
		"wraps around":              {[]uint16{65534, 65535, 0, 2}, 5, 4, 1},
		"duplicates never go below": {[]uint16{10, 10, 10, 11}, 2, 4, 0},
		"a wild jump is not taken":  {[]uint16{10, 11, 40000, 12}, 3, 4, 0},
	} {
		t.Run(name, func(t *testing.T) {
			var c seqCounter
			for _, s := range tc.seqs {
				c.add(s)
			}
			assert.Equal(t, tc.expected, c.expected(), "expected")
			assert.Equal(t, tc.received, c.received, "received")
			assert.Equal(t, tc.lost, c.lost(), "lost")
		})
	}
}

func TestLossBetweenReadings(t *testing.T) {
	var c seqCounter
	for s := uint16(0); s < 100; s++ {
		c.add(s)
	}
	from := c
	for s := uint16(100); s < 200; s++ {
		if s%10 != 0 { // every tenth lost
			c.add(s)
		}
	}
	assert.InDelta(t, 0.1, lossBetween(from, c), 1e-9)
	assert.InDelta(t, 0, lossBetween(c, c), 0)
}

func TestRoundTripFromReportBlock(t *testing.T) {
	sent := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	now := sent.Add(250 * time.Millisecond)
	held := uint32(100 * 65536 / 1000) // the receiver held the report 100 ms
	rtt, ok := roundTrip(rtcp.ReceptionReport{LastSenderReport: ntpMiddle(sent), Delay: held}, now)
	require.True(t, ok)
	assert.InDelta(t, 150*time.Millisecond, rtt, float64(time.Millisecond))

	_, ok = roundTrip(rtcp.ReceptionReport{}, now)
	assert.False(t, ok, "no sender report received yet")
	_, ok = roundTrip(rtcp.ReceptionReport{LastSenderReport: ntpMiddle(now.Add(time.Second))}, now)
	assert.False(t, ok, "a report from the future (forged or a clock step)")
}

func TestInspectRTCPReadsReportBlocks(t *testing.T) {
	raw, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 7, FractionLost: 64, TotalLost: 12}}},
		&rtcp.PictureLossIndication{MediaSSRC: 7},
	})
	require.NoError(t, err)
	info, err := inspectRTCP(raw)
	require.NoError(t, err)
	require.Len(t, info.reports, 1)
	assert.Equal(t, uint32(7), info.reports[0].SSRC)
	assert.Equal(t, uint8(64), info.reports[0].FractionLost)
	assert.True(t, info.keyframe)
}
