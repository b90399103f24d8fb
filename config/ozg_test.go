package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ozgYAML is minimalYAML with a department and one online service.
const ozgYAML = `
departments:
  - id: bauamt
    name: Bauamt
    services: ["99108008000000"]
ozg:
  default_department: bauamt
  services:
    - id: bauantrag-online
      name: Bauantrag online
      origins: ["https://portal.bad-beispielheim.de", "http://127.0.0.1:8080"]
      context_key:
        ed25519: "` + testOZGKey + `"
`

func testES256PEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestOZGValid(t *testing.T) {
	cfg := mustParse(t, mergeYAML(t, minimalYAML, ozgYAML))
	s := cfg.OZGService("bauantrag-online")
	require.NotNil(t, s)
	keys := s.Keys()
	require.Len(t, keys, 1)
	assert.Equal(t, AlgEdDSA, keys[0].Alg)
	assert.Nil(t, cfg.OZGService("other"))

	es := serviceOverlay(map[string]string{"context_key": "\n        es256: |\n" + indent(testES256PEM(t), "          ")})
	cfg = mustParse(t, mergeYAML(t, mergeYAML(t, minimalYAML, ozgYAML), es))
	assert.Equal(t, AlgES256, cfg.OZG.Services[0].Keys()[0].Alg)

	hs := serviceOverlay(map[string]string{"context_key": "{hmac_secret: " + strings.Repeat("k", 32) + "}",
		"previous_context_key": "{ed25519: '" + testOZGKey + "'}"})
	cfg = mustParse(t, mergeYAML(t, mergeYAML(t, minimalYAML, ozgYAML), hs))
	keys = cfg.OZG.Services[0].Keys()
	require.Len(t, keys, 2, "current and previous key")
	assert.Equal(t, AlgHS256, keys[0].Alg)
	assert.Equal(t, AlgEdDSA, keys[1].Alg)
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

// serviceOverlay is the ozg section of ozgYAML with the service's keys
// replaced or added (mergeYAML replaces lists whole).
func serviceOverlay(keys map[string]string) string {
	fields := map[string]string{
		"id": "bauantrag-online", "name": "Bauantrag online",
		"origins":     "['https://portal.bad-beispielheim.de']",
		"context_key": "{ed25519: '" + testOZGKey + "'}",
	}
	for k, v := range keys {
		fields[k] = v
	}
	out := "ozg:\n  services:\n    - id: " + fields["id"] + "\n"
	for _, k := range []string{"name", "origins", "context_key", "previous_context_key"} {
		if v, ok := fields[k]; ok {
			out += "      " + k + ": " + v + "\n"
		}
	}
	return out
}

func TestOZGSingleMistakes(t *testing.T) {
	svc := func(k, v string) string { return serviceOverlay(map[string]string{k: v}) }
	key := func(field, v string) string { return svc("context_key", "{"+field+": '"+v+"'}") }
	tests := []struct {
		name, overlay, key, msg string
	}{
		{"no default department", "ozg:\n  default_department: ''", "ozg.default_department", "required when ozg.services"},
		{"unknown default department", "ozg:\n  default_department: standesamt", "ozg.default_department", "not the id of a configured department"},
		{"id with capitals", svc("id", "Bauantrag"), "ozg.services[0].id", "a-z, 0-9"},
		{"no name", svc("name", "''"), "ozg.services[0].name", "required"},
		{"name too long", svc("name", strings.Repeat("x", 81)), "ozg.services[0].name", "at most 80"},
		{"no origins", svc("origins", "[]"), "ozg.services[0].origins", "required"},
		{"origin with path", svc("origins", "['https://portal.bad-beispielheim.de/antrag']"), "ozg.services[0].origins[0]", "without a path"},
		{"origin on http", svc("origins", "['http://portal.bad-beispielheim.de']"), "ozg.services[0].origins[0]", "https://"},
		{"origin placeholder", svc("origins", "['https://portal.stadt.example']"), "ozg.services[0].origins[0]", "placeholder"},
		{"no key", svc("context_key", "{}"), "ozg.services[0].context_key", "set one of"},
		{"two keys", svc("context_key", "{ed25519: '"+testOZGKey+"', hmac_secret: "+strings.Repeat("k", 32)+"}"),
			"ozg.services[0].context_key", "exactly one"},
		{"short hmac secret", key("hmac_secret", strings.Repeat("k", 31)), "ozg.services[0].context_key", "at least 32 bytes (is 31)"},
		{"ed25519 not base64", key("ed25519", "not a key"), "ozg.services[0].context_key", "32-byte public key"},
		{"ed25519 short", key("ed25519", "AAAA"), "ozg.services[0].context_key", "32-byte public key"},
		{"es256 not PEM", key("es256", "abc"), "ozg.services[0].context_key", "PEM"},
		{"example key", key("ed25519", PlaceholderOZGKey), "ozg.services[0].context_key.ed25519", "example key"},
		{"previous key twice", svc("previous_context_key", "{ed25519: '"+testOZGKey+"'}"), "ozg.services[0].previous_context_key", "same as context_key"},
		{"previous key broken", svc("previous_context_key", "{hmac_secret: short}"), "ozg.services[0].previous_context_key", "at least 32 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ve := validationErrors(t, mergeYAML(t, mergeYAML(t, minimalYAML, ozgYAML), tc.overlay))
			require.Len(t, ve, 1, "errors: %v", ve)
			assert.Equal(t, tc.key, ve[0].Key)
			assert.Contains(t, ve[0].Message, tc.msg)
		})
	}
}

func TestOZGDuplicateServiceID(t *testing.T) {
	two := "ozg:\n  services:\n    - id: a\n      name: A\n      origins: ['https://a.bad-beispielheim.de']\n      context_key: {ed25519: '" + testOZGKey + "'}\n" +
		"    - id: a\n      name: B\n      origins: ['https://b.bad-beispielheim.de']\n      context_key: {hmac_secret: " + strings.Repeat("k", 32) + "}\n"
	_, ve := validationErrors(t, mergeYAML(t, mergeYAML(t, minimalYAML, ozgYAML), two))
	require.Len(t, ve, 1, "errors: %v", ve)
	assert.Equal(t, "ozg.services[1].id", ve[0].Key)
}
