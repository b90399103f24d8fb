package guestchat

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A change in a case's video call wakes the case's streams and moves its
// count on, which the stream sends as a "video" event; a case nobody
// follows keeps no state for it.
func TestHubVideoChanged(t *testing.T) {
	h := newHub()
	h.videoChanged("c1")
	assert.Empty(t, h.topics, "no topic for a case without streams")

	wake, unsubscribe := h.subscribe("c1")
	assert.Zero(t, h.videoVersion("c1"))
	h.videoChanged("c1")
	h.videoChanged("c2")
	select {
	case <-wake:
	default:
		t.Fatal("the stream was not woken")
	}
	assert.Equal(t, int64(1), h.videoVersion("c1"))
	assert.Zero(t, h.videoVersion("c2"))
	unsubscribe()
	assert.Empty(t, h.topics, "the topic goes with its last stream")
}
