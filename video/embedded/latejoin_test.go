package embedded_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/videotest"
)

// TestLateJoinerNegotiates: someone who joins a call whose publisher has
// been sending for a while gets the server's offer for those tracks while
// offering their own; the collision resolves (server impolite, client
// polite) and media flows both ways.
func TestLateJoinerNegotiates(t *testing.T) {
	h := newHarness(t)
	h.call("c1", video.Limits{})
	staff, err := h.dial(h.grant("c1", "@anna:rathaus.test", both), videotest.Options{Video: true, Audio: true})
	require.NoError(t, err)
	waitFor(t, 5*time.Second, "the first publisher's tracks to arrive", func() bool {
		return h.b.Room("c1") != nil && len(h.b.Room("c1").Participants()) == 1 && h.b.Room("c1").Participants()[0].Publishing()
	})
	citizen, err := h.dial(h.grant("c1", "citizen", both), videotest.Options{Video: true, Audio: true})
	require.NoError(t, err)
	waitFor(t, 5*time.Second, "media both ways", func() bool { return staff.Total() > 50 && citizen.Total() > 50 })
	assert.Empty(t, citizen.Errors())
	assert.Empty(t, staff.Errors())
}
