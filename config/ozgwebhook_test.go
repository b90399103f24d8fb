package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// webhookOverlay is ozgYAML's service with the webhook given as a YAML
// flow mapping.
func webhookOverlay(webhook string) string {
	return serviceOverlay(nil) + "      webhook: " + webhook + "\n"
}

func TestOZGWebhookValid(t *testing.T) {
	secret, old := strings.Repeat("s", 32), strings.Repeat("o", 40)
	for _, tc := range []struct {
		name, webhook string
		secrets       int
	}{
		{"https", "{url: 'https://portal.bad-beispielheim.de/rathaus/status', secret: " + secret + "}", 1},
		{"rotation", "{url: 'https://portal.bad-beispielheim.de/hook', secret: " + secret + ", previous_secret: " + old + "}", 2},
		{"loopback allowed", "{url: 'http://127.0.0.1:9000/hook', secret: " + secret + ", allow_private: true}", 1},
		{"private allowed", "{url: 'https://10.1.2.3/hook', secret: " + secret + ", allow_private: true}", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustParse(t, mergeYAML(t, mergeYAML(t, minimalYAML, ozgYAML), webhookOverlay(tc.webhook)))
			w := cfg.OZGService("bauantrag-online").Webhook
			assert.True(t, w.Enabled())
			secrets := w.Secrets()
			require.Len(t, secrets, tc.secrets)
			assert.Equal(t, secret, string(secrets[0]), "the current secret first")
		})
	}
	cfg := mustParse(t, mergeYAML(t, minimalYAML, ozgYAML))
	assert.False(t, cfg.OZG.Services[0].Webhook.Enabled(), "no webhook unless configured")
}

func TestOZGWebhookMistakes(t *testing.T) {
	secret := strings.Repeat("s", 32)
	url := "url: 'https://portal.bad-beispielheim.de/hook'"
	tests := []struct{ name, webhook, key, msg string }{
		{"secret without url", "{secret: " + secret + "}", "url", "required when"},
		{"not a URL", "{url: 'portal', secret: " + secret + "}", "url", "http:// or https://"},
		{"http", "{url: 'http://portal.bad-beispielheim.de/hook', secret: " + secret + "}", "url", "must be https://"},
		{"placeholder host", "{url: 'https://portal.stadt.example/hook', secret: " + secret + "}", "url", "placeholder host"},
		{"loopback not allowed", "{url: 'http://127.0.0.1:9000/hook', secret: " + secret + "}", "url", "allow_private"},
		{"private not allowed", "{url: 'https://192.168.1.5/hook', secret: " + secret + "}", "url", "allow_private"},
		{"no secret", "{" + url + "}", "secret", "at least 32 bytes (is 0)"},
		{"short secret", "{" + url + ", secret: " + secret[:31] + "}", "secret", "at least 32 bytes (is 31)"},
		{"example secret", "{" + url + ", secret: " + PlaceholderWebhookSecret + "}", "secret", "published example"},
		{"short previous", "{" + url + ", secret: " + secret + ", previous_secret: short}", "previous_secret", "at least 32 bytes"},
		{"previous twice", "{" + url + ", secret: " + secret + ", previous_secret: " + secret + "}", "previous_secret", "same as secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ve := validationErrors(t, mergeYAML(t, mergeYAML(t, minimalYAML, ozgYAML), webhookOverlay(tc.webhook)))
			require.Len(t, ve, 1, "errors: %v", ve)
			assert.Equal(t, "ozg.services[0].webhook."+tc.key, ve[0].Key)
			assert.Contains(t, ve[0].Message, tc.msg)
		})
	}
}
