package guestchat

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/browsertest"
)

// TestBrowserIndexAndPrivacyLink drives Chromium through the index page
// (German, then English through the language switch) and the chat page
// with and without a privacy notice, with axe-core on each (issue 11,
// points 2 and 6). The departments and sessions are the fakes of
// server_test.go: no homeserver is needed to render these pages.
func TestBrowserIndexAndPrivacyLink(t *testing.T) {
	const privacy = "https://demoheim.example/datenschutz"
	withNotice := httptest.NewServer(newIndexServer(t, demoheim(t, privacy), nil))
	t.Cleanup(withNotice.Close)
	bare := httptest.NewServer(newIndexServer(t, demoheim(t, ""), func(c *config.Config) {
		c.GuestChat.AllowMissingPrivacyNotice = true
	}))
	t.Cleanup(bare.Close)

	s := browsertest.Start(t, "e2e/index.mjs", nil)
	s.Expect("ready", time.Minute)
	s.Continue("ready", map[string]any{"base": withNotice.URL, "bare": bare.URL, "privacy": privacy})
	done := s.Expect("done", 2*time.Minute)
	for _, check := range done["a11y"].([]any) {
		c := check.(map[string]any)
		t.Logf("axe %-32s %v rules passed", c["label"], c["passes"])
	}
	s.Continue("done", nil)
	s.Wait(time.Minute)
}
