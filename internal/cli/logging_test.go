package cli

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
)

func TestLoggerDropsRequestBodies(t *testing.T) {
	for _, format := range []config.LogFormat{config.LogFormatJSON, config.LogFormatConsole} {
		t.Run(string(format), func(t *testing.T) {
			var buf bytes.Buffer
			log := newLogger(config.LoggingConfig{Level: config.LogDebug, Format: format}, &buf)
			log.Debug().RawJSON("req_body", []byte(`{"body":"Mein Antrag: geheim"}`)).Str("method", "PUT").Msg("Request completed")
			log.Error().Str("req_body", "geheim").Msg("Request failed")
			out := buf.String()
			assert.NotContains(t, out, "geheim")
			assert.Contains(t, out, "Request completed")
			assert.Contains(t, out, "PUT")
			if format == config.LogFormatJSON {
				for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
					var m map[string]any
					require.NoError(t, json.Unmarshal(line, &m), "every line stays JSON")
				}
			}
		})
	}
}
