package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testAPIKey1 = "rh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	testAPIKey2 = "rh_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
)

// apiKeysOverlay is the ozg section of ozgYAML with the api_keys given
// (YAML flow list).
func apiKeysOverlay(keys string) string {
	return serviceOverlay(nil) + "      api_keys: " + keys + "\n"
}

func TestOZGAPIKeys(t *testing.T) {
	overlay := apiKeysOverlay("[{id: new, sha256: " + HashAPIKey(testAPIKey1) + "}, {id: old, sha256: " + HashAPIKey(testAPIKey2) + "}]")
	cfg := mustParse(t, mergeYAML(t, mergeYAML(t, minimalYAML, ozgYAML), overlay))
	for key, id := range map[string]string{testAPIKey1: "new", testAPIKey2: "old"} {
		svc, keyID := cfg.OZGServiceByAPIKey(key)
		require.NotNil(t, svc, "both keys work while the old one rotates out")
		assert.Equal(t, "bauantrag-online", svc.ID)
		assert.Equal(t, id, keyID)
	}
	for _, key := range []string{"", testAPIKey1[:len(testAPIKey1)-1], HashAPIKey(testAPIKey1), strings.ToUpper(testAPIKey1)} {
		svc, _ := cfg.OZGServiceByAPIKey(key)
		assert.Nil(t, svc, "%q", key)
	}
}

func TestOZGAPIKeyMistakes(t *testing.T) {
	h1, h2 := HashAPIKey(testAPIKey1), HashAPIKey(testAPIKey2)
	tests := []struct {
		name, keys, key, msg string
	}{
		{"bad id", "[{id: 'a b', sha256: " + h1 + "}]", "ozg.services[0].api_keys[0].id", "1–32 of"},
		{"id twice", "[{id: k, sha256: " + h1 + "}, {id: k, sha256: " + h2 + "}]", "ozg.services[0].api_keys[1].id", "used by another key"},
		{"the key, not its hash", "[{id: k, sha256: " + testAPIKey1 + "}]", "ozg.services[0].api_keys[0].sha256", "never the key itself"},
		{"upper-case hash", "[{id: k, sha256: " + strings.ToUpper(h1) + "}]", "ozg.services[0].api_keys[0].sha256", "64 lower-case hex"},
		{"example key", "[{id: k, sha256: " + HashAPIKey(PlaceholderOZGAPIKey) + "}]", "ozg.services[0].api_keys[0].sha256", "example key"},
		{"hash twice", "[{id: a, sha256: " + h1 + "}, {id: b, sha256: " + h1 + "}]", "ozg.services[0].api_keys[1].sha256", "already ozg.services[0].api_keys[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ve := validationErrors(t, mergeYAML(t, mergeYAML(t, minimalYAML, ozgYAML), apiKeysOverlay(tc.keys)))
			require.Len(t, ve, 1, "errors: %v", ve)
			assert.Equal(t, tc.key, ve[0].Key)
			assert.Contains(t, ve[0].Message, tc.msg)
		})
	}
}

// A key belongs to one service: the same hash under two services is
// refused.
func TestOZGAPIKeyInTwoServices(t *testing.T) {
	h := HashAPIKey(testAPIKey1)
	two := "ozg:\n  services:\n" +
		"    - {id: a, name: A, origins: ['https://a.bad-beispielheim.de'], context_key: {ed25519: '" + testOZGKey + "'}, api_keys: [{id: k, sha256: " + h + "}]}\n" +
		"    - {id: b, name: B, origins: ['https://b.bad-beispielheim.de'], context_key: {ed25519: '" + testOZGKey + "'}, api_keys: [{id: k, sha256: " + h + "}]}\n"
	_, ve := validationErrors(t, mergeYAML(t, mergeYAML(t, minimalYAML, ozgYAML), two))
	require.Len(t, ve, 1, "errors: %v", ve)
	assert.Equal(t, "ozg.services[1].api_keys[0].sha256", ve[0].Key)
	assert.Contains(t, ve[0].Message, "a key belongs to one service")
}
