package tesths

import (
	"testing"
	"time"

	"github.com/rathaus-de/rathaus/internal/devhs"
)

// WaitFor calls check every 100 ms until it returns nil and fails the test if
// that has not happened within timeout. what names the awaited condition
// ("bob sees alice's message"); the last error from check says what was seen
// instead. Use it for anything that happens asynchronously in a homeserver
// (sync, federation, appservice transactions) instead of sleeping.
func WaitFor(tb testing.TB, timeout time.Duration, what string, check func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	ticker := time.NewTicker(devhs.PollInterval)
	defer ticker.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s: %v", timeout, what, err)
		}
		select {
		case <-tb.Context().Done():
			tb.Fatalf("test ended while waiting for %s: %v", what, err)
		case <-ticker.C:
		}
	}
}
