package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// videoYAML turns video on (with the guest chat it needs).
const videoYAML = `
guest_chat:
  enabled: true
  public_url: https://chat.bad-beispielheim.de/
video:
  enabled: true
`

func TestVideoLiveKit(t *testing.T) {
	secret := strings.Repeat("s", MinLiveKitSecretLength)
	good := mergeYAML(t, mergeYAML(t, minimalYAML, videoYAML), `
video:
  backend: livekit
  livekit:
    url: http://127.0.0.1:7880
    client_url: wss://livekit.bad-beispielheim.de
    api_key: rathaus
    api_secret: `+secret+`
    matrix_rtc: true
`)
	cfg := mustParse(t, good)
	assert.Equal(t, "livekit", cfg.Video.Backend)
	assert.True(t, cfg.Video.LiveKit.MatrixRTC)
	// The embedded server's bounds do not apply to LiveKit.
	cfg = mustParse(t, mergeYAML(t, good, "video:\n  limits:\n    max_participants: 500\n"))
	assert.Equal(t, 500, cfg.Video.Limits.MaxParticipants)

	for _, tc := range []struct{ name, doc, key string }{
		{"unknown backend", "video:\n  backend: jitsi", "video.backend"},
		{"API URL not http", "video:\n  livekit:\n    url: ws://127.0.0.1:7880", "video.livekit.url"},
		{"client URL not ws", "video:\n  livekit:\n    client_url: https://livekit.bad-beispielheim.de", "video.livekit.client_url"},
		{"no key", "video:\n  livekit:\n    api_key: \"\"", "video.livekit.api_key"},
		{"short secret", "video:\n  livekit:\n    api_secret: " + secret[1:], "video.livekit.api_secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ve := validationErrors(t, mergeYAML(t, good, tc.doc))
			require.Contains(t, ve.Keys(), tc.key)
		})
	}
}
