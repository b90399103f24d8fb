package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
)

// The demo's chat links a privacy notice of its own, served by the chat
// (issue 11, point 2): check-config refuses a public chat without one.
func TestDemoConfigHasPrivacyNotice(t *testing.T) {
	data, err := demoConfig(testOptions())
	require.NoError(t, err)
	cfg, _ := config.Parse(data)
	require.NotNil(t, cfg)
	assert.Equal(t, privacyPageFile, cfg.GuestChat.PrivacyPage)
	assert.Equal(t, "http://127.0.0.1:19332"+config.PrivacyPagePath, cfg.Authority.PrivacyURL)
	assert.False(t, cfg.GuestChat.AllowMissingPrivacyNotice)
}

func TestPrivacyPageSaysWhatTheChatKeeps(t *testing.T) {
	data, err := demoConfig(testOptions())
	require.NoError(t, err)
	cfg, _ := config.Parse(data)
	require.NotNil(t, cfg)
	cfg.Retention.KeepClosed = 14 * 24 * time.Hour
	cfg.Retention.AbandonAfter = time.Hour

	dir := t.TempDir()
	require.NoError(t, writePrivacyPage(cfg, layout{dir: dir}))
	page, err := os.ReadFile(filepath.Join(dir, privacyPageFile))
	require.NoError(t, err)
	html := string(page)
	de, en, ok := strings.Cut(html, `<section id="en" lang="en"`)
	require.True(t, ok, "German first, then English")
	for _, want := range []string{`<html lang="de">`, "Dies ist eine Demo.", "Stadt Demoheim gibt es nicht.",
		"Sitzungs-Cookie", "4 Tage ab Ihrem letzten Besuch", "gilt es noch 1 Stunde", "sofort gelöscht", "1 Stunde lang niemand", "14 Tage nach dem Ende löschen wir",
		"PNG, JPEG, GIF, WebP und PDF, höchstens 10 MB", "Kein Tracking", `href="#en"`} {
		assert.Contains(t, de, want)
	}
	for _, want := range []string{"This is a demo.", "4 days from your last visit", "it lasts only 1 hour more", "deleted at once", "for 1 hour", "14 days after the end",
		"PNG, JPEG, GIF, WebP and PDF, at most 10 MB", "No tracking"} {
		assert.Contains(t, en, want)
	}
	assert.NotContains(t, html, "<script")
	assert.NotRegexp(t, `(?i)\sstyle\s*=`, html, "CSP style-src 'self'")

	// Without attachments the page says so; an operator's own page under
	// another name is never overwritten.
	cfg.GuestChat.MaxAttachmentBytes = 0
	require.NoError(t, writePrivacyPage(cfg, layout{dir: dir}))
	page, err = os.ReadFile(filepath.Join(dir, privacyPageFile))
	require.NoError(t, err)
	assert.Contains(t, string(page), "Dateien können Sie in diesem Chat nicht senden.")
	other := t.TempDir()
	cfg.GuestChat.PrivacyPage = "mine.html"
	require.NoError(t, writePrivacyPage(cfg, layout{dir: other}))
	assert.NoFileExists(t, filepath.Join(other, privacyPageFile))
}

func TestDurationWords(t *testing.T) {
	for _, tc := range []struct {
		d      time.Duration
		de, en string
	}{
		{720 * time.Hour, "30 Tage", "30 days"},
		{24 * time.Hour, "1 Tag", "1 day"},
		{72 * time.Hour, "3 Tage", "3 days"},
		{90 * time.Minute, "90 Minuten", "90 minutes"},
		{time.Hour, "1 Stunde", "1 hour"},
		{28 * time.Second, "28 Sekunden", "28 seconds"},
	} {
		assert.Equal(t, tc.de, durationDE(tc.d))
		assert.Equal(t, tc.en, durationEN(tc.d))
	}
}
