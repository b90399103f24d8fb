package guestchat_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/rathaus-de/rathaus/internal/tesths"
)

// TestCleanStopIsQuiet: stopping a running rathaus whose guest chat's
// filtered /sync is in its long poll logs no warning or error (mautrix
// logged the cancelled poll as a warning at every stop).
func TestCleanStopIsQuiet(t *testing.T) {
	ge := startGuestChat(t, tesths.Dendrite, nil)
	// Let the sync loop reach its long poll. Nothing outside the loop
	// shows that moment; on a loaded machine a shorter wait can only make
	// the test pass without a poll to cut, never fail it.
	time.Sleep(2 * time.Second)
	before := len(ge.Log())
	ge.App.Stop()
	for _, line := range strings.Split(ge.Log()[before:], "\n") {
		assert.NotContains(t, line, `"level":"warn"`)
		assert.NotContains(t, line, `"level":"error"`)
	}
}
