package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withoutPrivacyURL is minimalYAML with authority.privacy_url emptied.
func withoutPrivacyURL(t *testing.T, overlay string) string {
	t.Helper()
	s := mergeYAML(t, minimalYAML, "authority:\n  privacy_url: ''")
	if overlay != "" {
		s = mergeYAML(t, s, overlay)
	}
	return s
}

// A public chat without a privacy notice would show citizens a link that
// goes nowhere (issue 11, point 2): check-config refuses it and says what
// to set.
func TestGuestChatNeedsPrivacyNotice(t *testing.T) {
	_, ve := validationErrors(t, withoutPrivacyURL(t, ""))
	require.Len(t, ve, 1, "errors: %v", ve)
	assert.Equal(t, "authority.privacy_url", ve[0].Key)
	assert.Contains(t, ve[0].Message, "required while the guest chat is enabled")
	assert.Contains(t, ve[0].Message, "guest_chat.privacy_page")
}

func TestPrivacyNoticeValidSetups(t *testing.T) {
	tests := []struct {
		name, overlay, wantURL string
	}{
		{"chat disabled", "guest_chat:\n  enabled: false", ""},
		{"opt-out for tests", "guest_chat:\n  allow_missing_privacy_notice: true", ""},
		{"own page on a loopback chat", "guest_chat:\n  privacy_page: privacy.html",
			"http://127.0.0.1:29332" + PrivacyPagePath},
		{"own page behind a public URL", "guest_chat:\n  listen: 0.0.0.0:29332\n  public_url: https://chat.bad-beispielheim.de/\n  privacy_page: /srv/rathaus/datenschutz.html",
			"https://chat.bad-beispielheim.de" + PrivacyPagePath},
		{"loopback http URL", "authority:\n  privacy_url: http://127.0.0.1:8080/datenschutz", "http://127.0.0.1:8080/datenschutz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustParse(t, withoutPrivacyURL(t, tc.overlay))
			assert.Equal(t, tc.wantURL, cfg.Authority.PrivacyURL)
		})
	}
}

func TestExplicitPrivacyURLWinsOverOwnPage(t *testing.T) {
	cfg := mustParse(t, mergeYAML(t, minimalYAML, "guest_chat:\n  privacy_page: privacy.html"))
	assert.Equal(t, "https://bad-beispielheim.de/datenschutz", cfg.Authority.PrivacyURL)
}

func TestPrivacyNoticeMistakes(t *testing.T) {
	tests := []struct{ name, overlay, key, msg string }{
		{"privacy url http on a public host", "authority:\n  privacy_url: http://bad-beispielheim.de/datenschutz", "authority.privacy_url", "https://"},
		{"privacy page with spaces", "guest_chat:\n  privacy_page: ' privacy.html'", "guest_chat.privacy_page", "spaces"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ve := validationErrors(t, mergeYAML(t, minimalYAML, tc.overlay))
			require.Len(t, ve, 1, "errors: %v", ve)
			assert.Equal(t, tc.key, ve[0].Key)
			assert.Contains(t, ve[0].Message, tc.msg)
		})
	}
}
