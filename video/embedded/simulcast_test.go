package embedded_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/videotest"
)

// TestSimulcastClimbsToTheFullLayer: a subscriber of a simulcast
// publisher starts on whichever layer's keyframe comes first (the lowest
// is asked for first) and, with the bandwidth of loopback, ends on the
// full layer.
func TestSimulcastClimbsToTheFullLayer(t *testing.T) {
	h := newHarness(t)
	h.call("c1", video.Limits{})
	_, err := h.dial(h.grant("c1", "@anna:rathaus.test", both), videotest.Options{Video: true, Simulcast: true, PayloadSize: 400})
	require.NoError(t, err)
	sub, err := h.dial(h.grant("c1", "citizen", video.Rights{Subscribe: true}), videotest.Options{})
	require.NoError(t, err)
	var layers []int
	waitFor(t, 10*time.Second, "the subscriber on the full layer", func() bool {
		p := h.b.Room("c1").Participants()
		if len(p) != 2 {
			return false
		}
		for _, l := range p[1].Stats().Layers {
			if l >= 0 && (len(layers) == 0 || layers[len(layers)-1] != l) {
				layers = append(layers, l)
			}
			return l == 2
		}
		return false
	})
	t.Logf("layers forwarded, in order: %v", layers)
	assert.Positive(t, sub.Total())
}
