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
	assert.ElementsMatch(t, []string{
		"homeserver.url",
		"homeserver.server_name",
		"appservice.as_token",
		"appservice.hs_token",
		"authority.name",
	}, ve.Keys(), "errors: %v", ve)
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
	assert.Equal(t, fromDefaults, fromExample)
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
		case keyNode.HeadComment == "":
			problems = append(problems, key+" (no comment)")
		}
		if field.Type.Kind() == reflect.Struct {
			problems = append(problems, undocumentedKeys(valueNode, field.Type, key)...)
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
