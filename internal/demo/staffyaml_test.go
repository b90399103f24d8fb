package demo

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/rathaus-de/rathaus/config"
)

var twoMembers = []config.StaffConfig{
	{User: "@x:s.test", Role: config.RoleAdmin, MaxCases: 5},
	{User: "@y:s.test", Role: config.RoleCaseworker, MaxCases: 2},
}

type staffDoc struct {
	Departments []struct {
		ID    string               `yaml:"id"`
		Name  string               `yaml:"name"`
		Staff []config.StaffConfig `yaml:"staff"`
	} `yaml:"departments"`
}

func decodeStaffDoc(t *testing.T, data []byte) staffDoc {
	t.Helper()
	var doc staffDoc
	require.NoError(t, yaml.Unmarshal(data, &doc), "%s", data)
	return doc
}

// A staff list followed by another key of its department is replaced by
// text; the key after it, with its comment, and every other line stay.
func TestSpliceStaffBeforeAnotherKey(t *testing.T) {
	src := "# head\n" +
		"departments:\n" +
		"  - id: a\n" +
		"    staff:\n" +
		"      # who\n" +
		"      - user: \"@old:s.test\"\n" +
		"        # comment on role\n" +
		"        role: lead\n" +
		"\n" +
		"    # comment on name\n" +
		"    name: A\n" +
		"  - id: b # trailing\n" +
		"    name: B\n"
	out, err := editConfig([]byte(src), nil, []staffSetting{{"a", twoMembers}})
	require.NoError(t, err)
	want := "# head\n" +
		"departments:\n" +
		"  - id: a\n" +
		"    staff:\n" +
		"      " + strings.ReplaceAll(demoStaffComment, "\n", "\n      ") + "\n" +
		"      # who\n" +
		"      - user: \"@x:s.test\"\n" +
		"        # comment on role\n" +
		"        role: admin\n" +
		"        max_cases: 5\n" +
		"      - user: \"@y:s.test\"\n" +
		"        role: caseworker\n" +
		"        max_cases: 2\n" +
		"\n" +
		"    # comment on name\n" +
		"    name: A\n" +
		"  - id: b # trailing\n" +
		"    name: B\n"
	assert.Equal(t, want, string(out))
}

// Shapes that cannot be edited by text (a flow list, a list at the key's
// own indentation, a missing list) are edited in the node tree and the
// document re-encoded; comments survive.
func TestEditStaffFallsBackToReencoding(t *testing.T) {
	src := "# head\n" +
		"departments:\n" +
		"  - id: a\n" +
		"    staff: []\n" +
		"  - id: b\n" +
		"    staff:\n" +
		"    - user: \"@old:s.test\"\n" +
		"  - id: c # no staff\n" +
		"    name: C\n"
	var root yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(src), &root))
	_, ok := spliceStaff([]byte(src), root.Content[0], []staffSetting{{"a", twoMembers}})
	assert.False(t, ok)

	out, err := editConfig([]byte(src), []demoSetting{{"x.y", "z"}},
		[]staffSetting{{"a", twoMembers}, {"b", twoMembers[1:]}, {"c", twoMembers[:1]}})
	require.NoError(t, err)
	doc := decodeStaffDoc(t, out)
	require.Len(t, doc.Departments, 3)
	assert.Equal(t, twoMembers, doc.Departments[0].Staff)
	assert.Equal(t, twoMembers[1:], doc.Departments[1].Staff)
	assert.Equal(t, twoMembers[:1], doc.Departments[2].Staff)
	assert.Equal(t, "C", doc.Departments[2].Name)
	assert.Contains(t, string(out), "# head")
	assert.Contains(t, string(out), "# no staff")
	assert.Contains(t, string(out), "x:\n  y: z\n")
}

func TestEditStaffNeedsTheDepartment(t *testing.T) {
	_, err := editConfig([]byte("departments:\n  - id: a\n"), nil, []staffSetting{{"bauamt", twoMembers}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no department "bauamt"`)
	_, err = editConfig([]byte("authority: {}\n"), nil, []staffSetting{{"bauamt", twoMembers}})
	require.Error(t, err)
}
