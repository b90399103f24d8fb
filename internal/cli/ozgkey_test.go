package cli_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/internal/cli"
)

var (
	printedKey  = regexp.MustCompile(`(?m)^  (rh_[A-Za-z0-9_-]{43})$`)
	printedHash = regexp.MustCompile(`(?m)^          sha256: "([0-9a-f]{64})"$`)
)

// ozg-key prints a fresh 256-bit key and the entry with its hash; the
// entry, pasted into the config, makes the key the service's.
func TestOZGKey(t *testing.T) {
	code, stdout, stderr := run("ozg-key", "-id", "2026-11", "bauantrag-online")
	require.Equal(t, cli.ExitOK, code, stderr)
	key := printedKey.FindStringSubmatch(stdout)
	require.NotNil(t, key, stdout)
	hash := printedHash.FindStringSubmatch(stdout)
	require.NotNil(t, hash, stdout)
	assert.Equal(t, config.HashAPIKey(key[1]), hash[1])
	assert.Contains(t, stdout, `- id: "2026-11"`)

	_, again, _ := run("ozg-key", "bauantrag-online")
	assert.NotEqual(t, key[1], printedKey.FindStringSubmatch(again)[1], "every key is new")

	// The printed entry, in the example config, is valid and names the key.
	entry := stdout[strings.Index(stdout, "      api_keys:"):]
	cfgText := exampleWithoutPlaceholders(t)
	start := strings.Index(cfgText, "      api_keys:\n")
	require.Positive(t, start)
	cfgText = cfgText[:start] + entry
	cfgText = strings.Replace(cfgText, "as_token: generate", "as_token: "+strings.Repeat("a", 64), 1)
	cfgText = strings.Replace(cfgText, "hs_token: generate", "hs_token: "+strings.Repeat("b", 64), 1)
	cfg, err := config.Parse([]byte(cfgText))
	require.NoError(t, err)
	svc, keyID := cfg.OZGServiceByAPIKey(key[1])
	require.NotNil(t, svc)
	assert.Equal(t, "bauantrag-online", svc.ID)
	assert.Equal(t, "2026-11", keyID)
}

func TestOZGKeyUsage(t *testing.T) {
	for _, args := range [][]string{
		{"ozg-key"},
		{"ozg-key", "a", "b"},
		{"ozg-key", "Bauantrag"},
		{"ozg-key", "-id", "a b", "bauantrag-online"},
	} {
		code, stdout, stderr := run(args...)
		assert.Equal(t, cli.ExitUsage, code, "%v", args)
		assert.Empty(t, stdout, "no key on a usage error")
		assert.NotEmpty(t, stderr)
	}
}
