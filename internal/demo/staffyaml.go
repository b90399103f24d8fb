package demo

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
)

// staffSetting is the staff list the demo puts into one department.
type staffSetting struct {
	department protocol.DepartmentID
	staff      []config.StaffConfig
}

// demoStaff puts the demo's accounts on the example's two departments: the
// printed login is admin of both (so it may run `!rathaus sync`), and each
// department has one more member with another role.
func demoStaff(serverName string) []staffSetting {
	member := func(localpart string, role config.Role, maxCases int) config.StaffConfig {
		return config.StaffConfig{User: id.NewUserID(localpart, serverName), Role: role, MaxCases: maxCases}
	}
	return []staffSetting{
		{"bauamt", []config.StaffConfig{
			member(StaffLocalpart, config.RoleAdmin, config.DefaultMaxCases),
			member(BauamtLeadLocalpart, config.RoleLead, config.DefaultMaxCases),
		}},
		{"buergerbuero", []config.StaffConfig{
			member(StaffLocalpart, config.RoleAdmin, config.DefaultMaxCases),
			member(BuergerbueroLocalpart, config.RoleCaseworker, 8),
		}},
	}
}

// demoStaffComment heads each staff list the demo writes.
const demoStaffComment = "# Accounts of the demo homeserver: rathaus-demo creates every staff member\n" +
	"# of this server listed here; each password is in <localpart>.password\n" +
	"# in the demo directory."

// editConfig returns the YAML document src with the scalar settings and the
// staff lists applied. Like the settings, the staff lists are replaced in
// the text, so every other line stays as it is; only if that is impossible
// (a department has no block-style staff list, say) does it re-encode the
// document, which keeps comments but not blank lines. A department named
// in staff that src lacks is an error.
func editConfig(src []byte, settings []demoSetting, staff []staffSetting) ([]byte, error) {
	root, err := parseRoot(src)
	if err != nil {
		return nil, err
	}
	for _, s := range staff {
		if department(root, s.department) == nil {
			return nil, fmt.Errorf("the config has no department %q", s.department)
		}
	}
	if data, ok := spliceValues(src, root, settings); ok {
		if spliced, err := parseRoot(data); err == nil {
			if data, ok := spliceStaff(data, spliced, staff); ok {
				return data, nil
			}
		}
	}
	for _, kv := range settings {
		setKey(root, strings.Split(kv.key, "."), kv.value)
	}
	for _, s := range staff {
		setStaff(department(root, s.department), s.staff)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("failed to encode the config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("failed to encode the config: %w", err)
	}
	return buf.Bytes(), nil
}

// parseRoot parses src and returns its top-level mapping.
func parseRoot(src []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("failed to parse the config: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the config is not a YAML mapping")
	}
	return doc.Content[0], nil
}

// department returns the mapping of the department with the id, or nil.
func department(root *yaml.Node, depID protocol.DepartmentID) *yaml.Node {
	list := lookup(root, []string{"departments"})
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil
	}
	for _, d := range list.Content {
		if d.Kind != yaml.MappingNode {
			continue
		}
		if v := lookup(d, []string{"id"}); v != nil && v.Kind == yaml.ScalarNode && v.Value == string(depID) {
			return d
		}
	}
	return nil
}

// entry returns the key and value nodes of key in mapping, or nils.
func entry(mapping *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return mapping.Content[i], mapping.Content[i+1]
		}
	}
	return nil, nil
}

// spliceStaff replaces the text of each department's staff list, which
// must be a block sequence on the lines below its "staff:" key. The key
// line and everything outside the list stay as they are; comment lines
// right after the list belong to what follows and stay too.
func spliceStaff(src []byte, root *yaml.Node, staff []staffSetting) ([]byte, bool) {
	lines := bytes.SplitAfter(src, []byte("\n"))
	type edit struct {
		from, to int // lines[from:to] are replaced
		text     []byte
	}
	var edits []edit
	for _, s := range staff {
		dep := department(root, s.department)
		if dep == nil {
			return nil, false
		}
		key, seq := entry(dep, "staff")
		if key == nil || seq.Kind != yaml.SequenceNode || seq.Style&yaml.FlowStyle != 0 ||
			seq.Line <= key.Line || seq.Column <= key.Column || key.Line > len(lines) {
			return nil, false
		}
		keyIndent := indentation(lines[key.Line-1])
		from, to := key.Line, key.Line
		for to < len(lines) && (isBlankLine(lines[to]) || indentation(lines[to]) > keyIndent) {
			to++
		}
		for to > from && (isBlankLine(lines[to-1]) || isCommentLine(lines[to-1])) {
			to--
		}
		if to < seq.Line { // the list's first item must lie inside
			return nil, false
		}
		text, err := encodeIndented(staffNode(s.staff, seq), seq.Column-1)
		if err != nil {
			return nil, false
		}
		edits = append(edits, edit{from, to, text})
	}
	// From the bottom up, so earlier line numbers stay valid.
	sort.Slice(edits, func(i, j int) bool { return edits[i].from > edits[j].from })
	for i, e := range edits {
		if i > 0 && e.to > edits[i-1].from {
			return nil, false // overlapping lists: not a shape we edit by text
		}
		replaced := append([][]byte{}, lines[:e.from]...)
		replaced = append(replaced, e.text)
		lines = append(replaced, lines[e.to:]...)
	}
	return bytes.Join(lines, nil), true
}

// setStaff replaces the staff list of the department mapping dep in the
// node tree, adding the key if it is missing.
func setStaff(dep *yaml.Node, staff []config.StaffConfig) {
	key, seq := entry(dep, "staff")
	if key == nil {
		dep.Content = append(dep.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "staff"}, staffNode(staff, nil))
		return
	}
	*seq = *staffNode(staff, seq)
}

// staffNode builds a block sequence for staff. Item i takes the comments of
// item i of old, if there is one, so the example's documentation of the
// staff keys survives.
func staffNode(staff []config.StaffConfig, old *yaml.Node) *yaml.Node {
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for i, s := range staff {
		var oldItem *yaml.Node
		if old != nil && old.Kind == yaml.SequenceNode && i < len(old.Content) && old.Content[i].Kind == yaml.MappingNode {
			oldItem = old.Content[i]
		}
		item := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if oldItem != nil {
			item.HeadComment = oldItem.HeadComment
		}
		if i == 0 {
			item.HeadComment = strings.TrimSuffix(demoStaffComment+"\n"+item.HeadComment, "\n")
		}
		add := func(name string, value *yaml.Node) {
			k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}
			if oldItem != nil {
				if oldKey, _ := entry(oldItem, name); oldKey != nil {
					k.HeadComment = oldKey.HeadComment
				}
			}
			item.Content = append(item.Content, k, value)
		}
		add("user", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(s.User), Style: yaml.DoubleQuotedStyle})
		add("role", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(s.Role)})
		add("max_cases", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(s.MaxCases)})
		seq.Content = append(seq.Content, item)
	}
	return seq
}

// encodeIndented encodes node as a YAML block indented by indent spaces.
func encodeIndented(node *yaml.Node, indent int) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	pad := strings.Repeat(" ", indent)
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(buf.Bytes(), []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			out.WriteString(pad)
		}
		out.Write(line)
	}
	return out.Bytes(), nil
}

// indentation is the number of spaces a line starts with.
func indentation(line []byte) int {
	return len(line) - len(bytes.TrimLeft(line, " "))
}

func isBlankLine(line []byte) bool { return len(bytes.TrimSpace(line)) == 0 }

func isCommentLine(line []byte) bool { return bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) }
