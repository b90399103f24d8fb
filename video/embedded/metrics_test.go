package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/embedded"
	"github.com/rathaus-de/rathaus/video/videotest"
)

// series is one gathered sample: its labels and value.
type series struct {
	labels map[string]string
	value  float64
}

func gather(t *testing.T, reg *prometheus.Registry, name string) []series {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	var out []series
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			s := series{labels: map[string]string{}, value: value(m)}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			out = append(out, s)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	default:
		return 0
	}
}

// TestPerCallMetrics (issue 14, metrics per call and track): while a call
// runs, the registry has its packets per second, forwarding cost, round
// trip, join latency and time to first frame, labelled by call, track and
// the participants' random ids; when the call ends, its series go.
func TestPerCallMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHarness(t, func(o *embedded.Options) { o.Registerer = reg })
	h.call("c1", video.Limits{})
	staffRights, citizenRights := both, both
	staffRights.Role, citizenRights.Role = "staff", "citizen"
	staff, err := h.dial(h.grant("c1", "@anna:rathaus.test", staffRights), videotest.Options{Video: true, Audio: true})
	require.NoError(t, err)
	_, err = h.dial(h.grant("c1", "citizen", citizenRights), videotest.Options{Video: true, Audio: true})
	require.NoError(t, err)
	// Receiver reports come every second or so; the round trip needs one
	// that refers to a sender report.
	waitFor(t, 10*time.Second, "a round trip measured for both", func() bool {
		return len(gather(t, reg, "rathaus_video_call_rtt_seconds")) == 2
	})
	for _, s := range gather(t, reg, "rathaus_video_call_rtt_seconds") {
		assert.Equal(t, "c1", s.labels["call"])
		assert.Contains(t, []string{"staff", "citizen"}, s.labels["role"])
		assert.NotContains(t, s.labels["participant"], "anna", "a random id, never the Matrix id")
		assert.Greater(t, s.value, 0.0)
		assert.Less(t, s.value, 0.5, "loopback")
	}
	participants := gather(t, reg, "rathaus_video_call_participants")
	require.Len(t, participants, 1)
	assert.InDelta(t, 2, participants[0].value, 0)

	waitFor(t, 5*time.Second, "packet rates of both video tracks", func() bool {
		n := 0
		for _, s := range gather(t, reg, "rathaus_video_call_received_packets_per_second") {
			if s.labels["kind"] == "video" && s.value > 0 {
				n++
			}
		}
		return n == 2
	})
	cost := map[string]float64{}
	for _, s := range gather(t, reg, "rathaus_video_call_forward_seconds_total") {
		cost[s.labels["track"]] = s.value
	}
	for _, s := range gather(t, reg, "rathaus_video_call_forwarded_packets_total") {
		require.Positive(t, s.value, s.labels["track"])
		perPacket := cost[s.labels["track"]] / s.value
		t.Logf("%s: %.0f packets forwarded, %.1f µs each", s.labels["track"], s.value, perPacket*1e6)
		assert.Positive(t, perPacket)
	}
	for _, name := range []string{"rathaus_video_call_join_seconds", "rathaus_video_call_first_frame_seconds"} {
		got := gather(t, reg, name)
		require.Len(t, got, 2, name)
		for _, s := range got {
			assert.Greater(t, s.value, 0.0, name)
			assert.Less(t, s.value, 5.0, name)
		}
	}
	subs := gather(t, reg, "rathaus_video_call_subscriber_packets_total")
	assert.Len(t, subs, 4, "two tracks to each of two subscribers")

	// The call status shows the same measurements.
	ps, err := h.b.Participants(context.Background(), "c1")
	require.NoError(t, err)
	require.Len(t, ps, 2)
	for _, p := range ps {
		require.NotNil(t, p.Quality, p.Identity)
		assert.Positive(t, p.Quality.RTT, p.Identity)
		assert.False(t, p.Quality.Poor(), "loopback is not poor")
	}

	staff.Close()
	require.NoError(t, h.b.EndCall(context.Background(), "c1"))
	fams, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range fams {
		assert.NotContains(t, f.GetName(), "rathaus_video_call_", "no series outlive the call")
	}
}
