package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fitConnectYAML is ozgYAML with a second service, both with the given
// fit_connect sections.
func fitConnectYAML(first, second string) string {
	return ozgYAML + "      fit_connect: " + first + `
    - id: meldebescheinigung
      name: Meldebescheinigung online
      origins: ["https://portal.bad-beispielheim.de"]
      context_key:
        ed25519: "` + testOZGKey + `"
      fit_connect: ` + second + "\n"
}

func TestFITConnectCallbackSecrets(t *testing.T) {
	a, b := strings.Repeat("a1B2", 8), strings.Repeat("c3D4", 9)
	cfg := mustParse(t, mergeYAML(t, minimalYAML, fitConnectYAML("{callback_secret: "+a+", previous_callback_secret: "+b+"}", "{}")))
	assert.Equal(t, [][]byte{[]byte(a), []byte(b)}, cfg.OZG.Services[0].FITConnect.CallbackSecrets(), "current first")
	assert.Empty(t, cfg.OZG.Services[1].FITConnect.CallbackSecrets(), "callbacks off")

	for _, tc := range []struct {
		name, first, second, key, msg string
	}{
		{"too short", "{callback_secret: " + strings.Repeat("x1", 15) + "}", "{}",
			"ozg.services[0].fit_connect.callback_secret", "at least 32 characters (is 30)"},
		{"FIT-Connect's published example", "{callback_secret: insecure_unsafe_qHScgrg_kP-R31jHUwp3GkVkGJolvBchz65b74Lzue0}", "{}",
			"ozg.services[0].fit_connect.callback_secret", "example secret from FIT-Connect's documentation"},
		{"one character repeated", "{callback_secret: " + strings.Repeat("x", 40) + "}", "{}",
			"ozg.services[0].fit_connect.callback_secret", "one character repeated"},
		{"spaces", "{callback_secret: '" + a + " " + a + "'}", "{}",
			"ozg.services[0].fit_connect.callback_secret", "printable ASCII without spaces"},
		{"previous without current", "{previous_callback_secret: " + a + "}", "{}",
			"ozg.services[0].fit_connect.callback_secret", "required while previous_callback_secret is set"},
		{"previous equals current", "{callback_secret: " + a + ", previous_callback_secret: " + a + "}", "{}",
			"ozg.services[0].fit_connect.previous_callback_secret", "same as callback_secret"},
		{"shared by two services", "{callback_secret: " + a + "}", "{callback_secret: " + b + ", previous_callback_secret: " + a + "}",
			"ozg.services[1].fit_connect.previous_callback_secret", `also a callback secret of service "bauantrag-online"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := validationErrors(t, mergeYAML(t, minimalYAML, fitConnectYAML(tc.first, tc.second)))
			require.Len(t, errs, 1, errs.Error())
			assert.Equal(t, tc.key, errs[0].Key)
			assert.Contains(t, errs[0].Message, tc.msg)
			assert.NotContains(t, errs.Error(), a, "a problem never repeats the secret")
		})
	}
}
