package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/rathaus-de/rathaus"
)

// Distinct tokens of a valid length for tests.
const (
	testASToken = "as_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	testHSToken = "hs_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// testOZGKey is an Ed25519 public key that is not the example's.
const testOZGKey = "MIihyXQsFXsqgTbMrAIQwa7zIHqZNLoAyNYBqv0344c="

// minimalYAML sets only the keys without a usable default.
const minimalYAML = `
homeserver:
  url: https://matrix.bad-beispielheim.de
  server_name: bad-beispielheim.de
appservice:
  as_token: ` + testASToken + `
  hs_token: ` + testHSToken + `
authority:
  name: Stadt Bad Beispielheim
  ags: "08111000"
  privacy_url: https://bad-beispielheim.de/datenschutz
`

// exampleStaffKeys are the keys of the example's staff, all placeholders.
var exampleStaffKeys = []string{
	"departments[0].staff[0].user",
	"departments[0].staff[1].user",
	"departments[1].staff[0].user",
	"departments[1].staff[1].user",
	"departments[1].staff[2].user",
	// Not staff, but placeholders all the same: the example's online
	// service.
	"ozg.services[0].origins[0]",
	"ozg.services[0].context_key.ed25519",
	"ozg.services[0].api_keys[0].sha256",
}

// filledExample returns the embedded example with every placeholder replaced
// by a real-looking value, the way an operator would edit it.
func filledExample(t *testing.T) string {
	t.Helper()
	s := string(rathaus.ExampleConfig)
	for _, r := range []struct{ old, new string }{
		{"url: https://matrix.stadt.example\n", "url: https://matrix.bad-beispielheim.de\n"},
		{"server_name: stadt.example\n", "server_name: bad-beispielheim.de\n"},
		{"as_token: generate\n", "as_token: " + testASToken + "\n"},
		{"hs_token: generate\n", "hs_token: " + testHSToken + "\n"},
		{"name: " + PlaceholderAuthorityName + "\n", "name: Stadt Bad Beispielheim\n"},
		{"privacy_url: \"\"\n", "privacy_url: https://bad-beispielheim.de/datenschutz\n"},
		{`"@anna:stadt.example"`, `"@anna:bad-beispielheim.de"`},
		{`"@ben:stadt.example"`, `"@ben:bad-beispielheim.de"`},
		{`"@carla:stadt.example"`, `"@carla:bad-beispielheim.de"`},
		{`"@deniz:stadt.example"`, `"@deniz:bad-beispielheim.de"`},
		{`"@emil:nachbargemeinde.example"`, `"@emil:nachbarort.de"`},
		{`"https://portal.stadt.example"`, `"https://portal.bad-beispielheim.de"`},
		{`ed25519: "` + PlaceholderOZGKey + `"`, `ed25519: "` + testOZGKey + `"`},
		{`sha256: "` + HashAPIKey(PlaceholderOZGAPIKey) + `"`, `sha256: "` + HashAPIKey(testAPIKey1) + `"`},
	} {
		require.Equal(t, 1, strings.Count(s, r.old), "example-config.yaml should contain %q exactly once", r.old)
		s = strings.Replace(s, r.old, r.new, 1)
	}
	return s
}

// mustParse parses s and fails the test on any error.
func mustParse(t *testing.T, s string) *Config {
	t.Helper()
	cfg, err := Parse([]byte(s))
	require.NoError(t, err)
	require.NotNil(t, cfg)
	return cfg
}

// validationErrors parses s and returns its ValidationErrors, failing the
// test if Parse returned no error or an error of another kind.
func validationErrors(t *testing.T, s string) (*Config, ValidationErrors) {
	t.Helper()
	cfg, err := Parse([]byte(s))
	require.Error(t, err)
	var ve ValidationErrors
	require.ErrorAs(t, err, &ve)
	require.NotNil(t, cfg, "Parse should return the config along with ValidationErrors")
	return cfg, ve
}

// mergeYAML overlays the mapping in overlay onto the mapping in base, key by
// key and recursively, and returns the result as YAML. Keys only in overlay
// are appended unchanged (so an overlay may carry deliberate mistakes such
// as duplicate keys).
func mergeYAML(t *testing.T, base, overlay string) string {
	t.Helper()
	var b, o yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(base), &b))
	require.NoError(t, yaml.Unmarshal([]byte(overlay), &o))
	mergeMapping(b.Content[0], o.Content[0])
	out, err := yaml.Marshal(&b)
	require.NoError(t, err)
	return string(out)
}

func mergeMapping(base, overlay *yaml.Node) {
	for i := 0; i+1 < len(overlay.Content); i += 2 {
		key, value := overlay.Content[i], overlay.Content[i+1]
		_, existing := findKey(base, key.Value)
		switch {
		case existing == nil:
			base.Content = append(base.Content, key, value)
		case existing.Kind == yaml.MappingNode && value.Kind == yaml.MappingNode:
			mergeMapping(existing, value)
		default:
			*existing = *value
		}
	}
}
