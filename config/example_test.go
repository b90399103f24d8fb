package config

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/rathaus-de/rathaus"
)

// The embedded example is the operator documentation; these tests keep it
// and the code from drifting apart.

func TestExampleReportsExactlyThePlaceholders(t *testing.T) {
	cfg, ve := validationErrors(t, string(rathaus.ExampleConfig))
	assert.ElementsMatch(t, append([]string{
		"homeserver.url",
		"homeserver.server_name",
		"appservice.as_token",
		"appservice.hs_token",
		"authority.name",
		"authority.privacy_url",
	}, exampleStaffKeys...), ve.Keys(), "errors: %v", ve)
	// Every example staff member is named, so the operator knows what to
	// replace; the foreign server is as much a placeholder as the own one.
	for _, u := range []string{"@anna:stadt.example", "@ben:stadt.example", "@carla:stadt.example", "@deniz:stadt.example", "@emil:nachbargemeinde.example"} {
		assert.Contains(t, ve.Error(), "still the placeholder \""+u+"\"")
	}
	assert.Contains(t, ve.Error(),
		"appservice.as_token: still the placeholder \"generate\"; run `rathaus generate-registration`")
	assert.Contains(t, ve.Error(),
		"appservice.hs_token: still the placeholder \"generate\"; run `rathaus generate-registration`")
	assert.Equal(t, PlaceholderAuthorityName, cfg.Authority.Name)
}

func TestExampleFilledIsValid(t *testing.T) {
	cfg := mustParse(t, filledExample(t))
	assert.Equal(t, testASToken, cfg.AppService.ASToken)
	assert.Equal(t, "bad-beispielheim.de", cfg.Homeserver.ServerName)
}

// The values written in the example are the documented defaults; they must
// be the defaults the code applies when the keys are left out.
func TestExampleValuesAreTheDefaults(t *testing.T) {
	fromExample := mustParse(t, filledExample(t))
	fromDefaults := mustParse(t, minimalYAML)
	fromDefaults.Homeserver = fromExample.Homeserver
	fromDefaults.Authority = fromExample.Authority
	fromDefaults.Departments = fromExample.Departments
	// The example's online service is an example, not a default.
	fromDefaults.OZG = fromExample.OZG
	assert.Equal(t, fromDefaults, fromExample)
}

// The example's departments are examples, not defaults, but where their
// first entries spell out a value that has a default, it is that default.
func TestExampleDepartmentsShowTheDefaults(t *testing.T) {
	cfg := mustParse(t, filledExample(t))
	require.NotEmpty(t, cfg.Departments)
	first := cfg.Departments[0]
	assert.Equal(t, DefaultTimeZone, first.TimeZone)
	require.NotEmpty(t, first.Staff)
	assert.Equal(t, DefaultMaxCases, first.Staff[0].MaxCases)
	assert.Empty(t, cfg.Authority.ARS)
	assert.Equal(t, cfg.Authority.Name, cfg.Authority.ShortName, "short_name: \"\" means the name")
}

// Every key of the schema appears in the example with a comment above it,
// and the example has no key the schema lacks (Parse would refuse it anyway).
func TestExampleDocumentsEveryKey(t *testing.T) {
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(rathaus.ExampleConfig, &doc))
	require.Len(t, doc.Content, 1)
	missing := undocumentedKeys(doc.Content[0], reflect.TypeFor[Config](), "")
	assert.Empty(t, missing, "keys missing from example-config.yaml or without a comment above them")
}

func undocumentedKeys(node *yaml.Node, typ reflect.Type, path string) []string {
	var problems []string
	for name, field := range yamlFields(typ) {
		key := joinKey(path, name)
		keyNode, valueNode := findKey(node, name)
		switch {
		case keyNode == nil:
			problems = append(problems, key+" (missing)")
			continue
		case keyNode.HeadComment == "" && (keyNode != node.Content[0] || node.HeadComment == ""):
			// In a list ("- id: …") yaml.v3 gives the comment above the
			// entry to the entry, not to its first key.
			problems = append(problems, key+" (no comment)")
		}
		switch {
		case field.Type.Kind() == reflect.Struct:
			problems = append(problems, undocumentedKeys(valueNode, field.Type, key)...)
		case field.Type.Kind() == reflect.Slice && field.Type.Elem().Kind() == reflect.Struct:
			// A list of entries: its first entry documents every key.
			if valueNode.Kind != yaml.SequenceNode || len(valueNode.Content) == 0 {
				problems = append(problems, key+" (no example entry)")
				continue
			}
			problems = append(problems, undocumentedKeys(valueNode.Content[0], field.Type.Elem(), key+"[0]")...)
		}
	}
	return problems
}

func findKey(mapping *yaml.Node, name string) (key, value *yaml.Node) {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == name {
			return mapping.Content[i], mapping.Content[i+1]
		}
	}
	return nil, nil
}
