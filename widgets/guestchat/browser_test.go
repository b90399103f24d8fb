package guestchat

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/browsertest"
	"github.com/rathaus-de/rathaus/internal/demo"
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

// TestBrowserDemoPrivacyPage serves the demo's privacy notice as the demo
// has the chat serve it (guest_chat.privacy_page) and has Chromium and
// axe-core check it (issue 11, point 2).
func TestBrowserDemoPrivacyPage(t *testing.T) {
	cfg := config.Default()
	cfg.Authority.Name = demo.AuthorityName
	page, err := demo.PrivacyPage(cfg)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "privacy.html")
	require.NoError(t, os.WriteFile(path, page, 0o600))
	srv := httptest.NewServer(newIndexServer(t, demoheim(t, ""), func(c *config.Config) {
		c.GuestChat.PrivacyPage = path
	}))
	t.Cleanup(srv.Close)

	s := browsertest.Start(t, "e2e/privacy.mjs", nil)
	s.Expect("ready", time.Minute)
	s.Continue("ready", map[string]any{"url": srv.URL + config.PrivacyPagePath})
	done := s.Expect("done", time.Minute)
	for _, check := range done["a11y"].([]any) {
		c := check.(map[string]any)
		t.Logf("axe %-32s %v rules passed", c["label"], c["passes"])
	}
	s.Continue("done", nil)
	s.Wait(time.Minute)
}
