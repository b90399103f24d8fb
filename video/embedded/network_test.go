package embedded_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/netns"
	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/sfu"
	"github.com/rathaus-de/rathaus/video/videotest"
)

// Network conditions: one subscriber's bandwidth is limited by an htb
// class on loopback in a network namespace of the test's own
// (internal/netns); loss and delay are applied at the clients' sockets.

func participant(h *harness, call video.CallID, who string) *sfu.Participant {
	for _, p := range h.b.Room(call).Participants() {
		if p.Identity == who {
			return p
		}
	}
	return nil
}

func layerOf(h *harness, who string) int {
	p := participant(h, "c1", who)
	if p == nil {
		return -1
	}
	for _, l := range p.Stats().Layers {
		return l
	}
	return -1
}

// TestUnderLossAndDelay (issue 14, acceptance 5): with 2 % loss and
// 40 ms delay on the publisher's and the subscriber's path, the
// subscriber asks for resends (NACK) and completes at least 80 % of the
// frames it completes on a clean path; after a 1 s total outage, a
// keyframe arrives within 1 s of recovery. This machine's kernel has no
// sch_netem, so the loss and delay are applied at the clients' sockets
// (videotest.Impairment); the SFU sees the same either way.
func TestUnderLossAndDelay(t *testing.T) {
	h := newHarness(t)
	h.call("c1", video.Limits{})
	pubPath, subPath := videotest.NewImpairment(), videotest.NewImpairment()
	_, err := h.dial(h.grant("c1", "@anna:rathaus.test", both),
		videotest.Options{Video: true, PacketsPerSecond: 150, PayloadSize: 600, Impair: pubPath})
	require.NoError(t, err)
	sub, err := h.dial(h.grant("c1", "citizen", video.Rights{Subscribe: true}), videotest.Options{Impair: subPath})
	require.NoError(t, err)
	measure := func(what string) float64 {
		time.Sleep(2 * time.Second) // settle
		from := time.Now()
		time.Sleep(6 * time.Second)
		fps := float64(sub.FramesBetween(from, time.Now())) / 6
		t.Logf("%s: %.1f complete frames/s", what, fps)
		return fps
	}
	clean := measure("clean path")
	require.Greater(t, clean, 40.0, "the synthetic publisher sends 50 frames/s")

	pubPath.Set(0.02, 40*time.Millisecond)
	subPath.Set(0.02, 40*time.Millisecond)
	nacksBefore := participant(h, "c1", "citizen").Stats().NACKs
	lossy := measure("2 % loss, 40 ms delay")
	st := participant(h, "c1", "citizen").Stats()
	nacks := st.NACKs - nacksBefore
	t.Logf("packets NACKed by the subscriber: %d, resent: %d; %.2f of the clean frame rate", nacks, st.Resent, lossy/clean)
	assert.Positive(t, nacks, "the subscriber asked for resends")
	assert.Positive(t, st.Resent, "the server resent from the layer's history")
	assert.GreaterOrEqual(t, lossy, 0.8*clean, "at least 80 %% of the clean frame rate")
	// The call status sees the delay: 40 ms each way on the subscriber's
	// path, so the round trip is at least 80 ms.
	var q *video.Quality
	waitFor(t, 5*time.Second, "the subscriber's round trip measured", func() bool {
		ps, err := h.b.Participants(context.Background(), "c1")
		require.NoError(t, err)
		for _, p := range ps {
			if p.Identity == "citizen" && p.Quality != nil && p.Quality.RTT >= 80*time.Millisecond {
				q = p.Quality
			}
		}
		return q != nil
	})
	t.Logf("subscriber's connection: RTT %s, %.1f %% lost towards it, poor: %v", q.RTT, 100*q.ReceiveLoss, q.Poor())
	assert.Less(t, q.RTT, time.Second)

	pubPath.Set(1, 0)
	subPath.Set(1, 0)
	time.Sleep(time.Second)
	pubPath.Set(0.02, 40*time.Millisecond)
	subPath.Set(0.02, 40*time.Millisecond)
	recovered := time.Now()
	var key time.Time
	waitFor(t, 5*time.Second, "a keyframe after the outage", func() bool {
		key = sub.FirstKeyframeAfter(recovered)
		return !key.IsZero()
	})
	t.Logf("keyframe %s after recovery (%d PLIs sent by the subscriber)", key.Sub(recovered).Round(time.Millisecond), sub.PLIsSent())
	assert.LessOrEqual(t, key.Sub(recovered), time.Second)
}

// TestSimulcastUnderBandwidthLimit (issue 14, acceptance 6): a subscriber
// limited to 300 kbit/s drops to the lowest layer within 5 s and keeps
// receiving frames while another subscriber keeps the full layer; when
// the limit is lifted, it climbs back.
func TestSimulcastUnderBandwidthLimit(t *testing.T) {
	if !netns.Enter(t, 3*time.Minute) {
		return
	}
	h := newHarness(t)
	h.call("c1", video.Limits{})
	_, err := h.dial(h.grant("c1", "@anna:rathaus.test", both),
		videotest.Options{Video: true, Simulcast: true, PacketsPerSecond: 150, PayloadSize: 500})
	require.NoError(t, err)
	const limitedPort, freePort = 41001, 41002
	limited, err := h.dial(h.grant("c1", "limited", video.Rights{Subscribe: true}), videotest.Options{UDPPort: limitedPort})
	require.NoError(t, err)
	_, err = h.dial(h.grant("c1", "free", video.Rights{Subscribe: true}), videotest.Options{UDPPort: freePort})
	require.NoError(t, err)
	waitFor(t, 20*time.Second, "both subscribers on the full layer", func() bool {
		return layerOf(h, "limited") == 2 && layerOf(h, "free") == 2
	})

	netns.Run(t, "tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "1")
	netns.Run(t, "tc", "class", "add", "dev", "lo", "parent", "1:", "classid", "1:1", "htb", "rate", "10gbit")
	netns.Run(t, "tc", "class", "add", "dev", "lo", "parent", "1:", "classid", "1:2", "htb", "rate", "300kbit", "burst", "6k")
	netns.Run(t, "tc", "qdisc", "add", "dev", "lo", "parent", "1:2", "handle", "20:", "pfifo", "limit", "30")
	netns.Run(t, "tc", "filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
		"match", "ip", "dport", fmt.Sprint(limitedPort), "0xffff", "flowid", "1:2")
	start := time.Now()
	waitFor(t, 5*time.Second, "the limited subscriber on the lowest layer", func() bool {
		assert.Equal(t, 2, layerOf(h, "free"), "the other subscriber keeps the full layer")
		return layerOf(h, "limited") == 0
	})
	dropped := time.Since(start)
	time.Sleep(3 * time.Second)
	gap := limited.LongestFrameGap(start, time.Now())
	t.Logf("dropped to the lowest layer after %s; longest time without a complete frame: %s; estimate %d bit/s",
		dropped.Round(time.Millisecond), gap.Round(time.Millisecond), participant(h, "c1", "limited").Stats().Estimate)
	assert.Less(t, gap, time.Second, "the picture keeps moving through the switch")
	assert.Equal(t, 2, layerOf(h, "free"))

	netns.Run(t, "tc", "class", "change", "dev", "lo", "parent", "1:", "classid", "1:2", "htb", "rate", "10gbit")
	lifted := time.Now()
	waitFor(t, 60*time.Second, "the limited subscriber back above the lowest layer", func() bool { return layerOf(h, "limited") >= 1 })
	t.Logf("up again after %s", time.Since(lifted).Round(time.Millisecond))
	waitFor(t, 60*time.Second, "the limited subscriber back on the full layer", func() bool { return layerOf(h, "limited") == 2 })
	t.Logf("full layer again after %s", time.Since(lifted).Round(time.Millisecond))
}
