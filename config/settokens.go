package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// SetTokens writes asToken and hsToken into appservice.as_token and
// appservice.hs_token of the configuration file at path, and changes nothing
// else: comments, blank lines, key order and quoting stay as they are.
//
// It finds the two values with the yaml.v3 Node API and replaces exactly
// their source text. Only when that is impossible (a key is missing, or a
// value is an alias or spans several lines) does it re-encode the document
// from its nodes, which keeps comments but not blank lines. Either way it
// checks that the result decodes to the old content with the new tokens
// before it replaces the file atomically (temporary file, fsync, rename) with
// mode 0600, since the file now holds secrets. A symlink at path is followed.
//
// The tokens must pass Validate's rules, or ErrInvalidToken is returned and
// nothing is written. Other problems in the file are left alone.
func SetTokens(path, asToken, hsToken string) error {
	for _, t := range [...]struct{ key, token string }{{"as_token", asToken}, {"hs_token", hsToken}} {
		if msg := tokenProblem(t.token); msg != "" {
			return fmt.Errorf("%w: %s %s", ErrInvalidToken, t.key, msg)
		}
	}
	if asToken == hsToken {
		return fmt.Errorf("%w: as_token and hs_token must differ", ErrInvalidToken)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("failed to resolve config path: %w", err)
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return fmt.Errorf("failed to read config file: %w", err)
	}
	out, err := replaceTokens(data, asToken, hsToken)
	if err != nil {
		return err
	}
	return writeFileAtomic(real, out)
}

// replaceTokens returns data with the two tokens replaced.
func replaceTokens(data []byte, asToken, hsToken string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("failed to parse config YAML: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, ErrEmptyConfig
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, ErrNotMapping
	}
	tokens := map[string]string{"as_token": asToken, "hs_token": hsToken}
	if out, ok := spliceTokens(data, doc.Content[0], tokens); ok && sameExceptTokens(data, out, tokens) {
		return out, nil
	}
	out, err := reencodeTokens(&doc, tokens)
	if err != nil {
		return nil, err
	}
	if !sameExceptTokens(data, out, tokens) {
		return nil, errors.New("failed to update tokens: the rewritten file would differ in other keys")
	}
	return out, nil
}

// spliceTokens replaces the source text of each token's value node. It
// returns false if some value is not a single-line scalar it can locate.
func spliceTokens(data []byte, root *yaml.Node, tokens map[string]string) ([]byte, bool) {
	as := mappingValue(root, "appservice")
	if as == nil || as.Kind != yaml.MappingNode {
		return nil, false
	}
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	for key, token := range tokens {
		node := mappingValue(as, key)
		if node == nil || node.Kind != yaml.ScalarNode {
			return nil, false
		}
		start, end, ok := scalarExtent(data, node)
		if !ok {
			return nil, false
		}
		text, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: token,
			Style: node.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)})
		rendered := strings.TrimSuffix(string(text), "\n")
		if err != nil || strings.Contains(rendered, "\n") {
			return nil, false
		}
		edits = append(edits, edit{start, end, rendered})
	}
	// Apply from the end of the file backwards so earlier offsets stay valid.
	sort.Slice(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out := bytes.Clone(data)
	for _, e := range edits {
		out = append(out[:e.start:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	return out, true
}

// scalarExtent returns the byte range of a single-line scalar's source text.
func scalarExtent(data []byte, node *yaml.Node) (start, end int, ok bool) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if node.Line < 1 || node.Line > len(lines) {
		return 0, 0, false
	}
	lineStart := 0
	for _, l := range lines[:node.Line-1] {
		lineStart += len(l)
	}
	line := lines[node.Line-1]
	// yaml.v3 counts columns in characters, not bytes.
	col := 0
	for i := 1; i < node.Column; i++ {
		if col >= len(line) {
			return 0, 0, false
		}
		_, size := utf8.DecodeRune(line[col:])
		col += size
	}
	rest := line[col:]
	switch node.Style {
	case 0:
		if !bytes.HasPrefix(rest, []byte(node.Value)) || node.Value == "" {
			return 0, 0, false
		}
		return lineStart + col, lineStart + col + len(node.Value), true
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if len(rest) == 0 {
			return 0, 0, false
		}
		quote := rest[0]
		for i := 1; i < len(rest); i++ {
			switch {
			case rest[i] == '\n':
				return 0, 0, false
			case quote == '"' && rest[i] == '\\':
				i++
			case rest[i] == quote && quote == '\'' && i+1 < len(rest) && rest[i+1] == '\'':
				i++
			case rest[i] == quote:
				return lineStart + col, lineStart + col + i + 1, true
			}
		}
	}
	return 0, 0, false
}

// reencodeTokens sets the tokens in the node tree, adding keys (and the
// appservice section) where missing, and encodes the tree again.
func reencodeTokens(doc *yaml.Node, tokens map[string]string) ([]byte, error) {
	root := doc.Content[0]
	as := mappingValue(root, "appservice")
	if as == nil || as.Kind != yaml.MappingNode {
		if as == nil {
			as = &yaml.Node{}
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "appservice"}, as)
		}
		*as = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: as.HeadComment, LineComment: as.LineComment}
	}
	for _, key := range []string{"as_token", "hs_token"} {
		node := mappingValue(as, key)
		if node == nil {
			node = &yaml.Node{}
			as.Content = append(as.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, node)
		}
		*node = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: tokens[key],
			Style:       node.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle),
			LineComment: node.LineComment, HeadComment: node.HeadComment}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("failed to encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("failed to encode config: %w", err)
	}
	return buf.Bytes(), nil
}

// mappingValue returns the value node of key in a mapping node, or nil.
func mappingValue(mapping *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return mapping.Content[i+1]
		}
	}
	return nil
}

// sameExceptTokens reports whether out decodes to what orig decodes to with
// the tokens set: the safety net that nothing else was touched.
func sameExceptTokens(orig, out []byte, tokens map[string]string) bool {
	var before, after map[string]any
	if yaml.Unmarshal(orig, &before) != nil || yaml.Unmarshal(out, &after) != nil {
		return false
	}
	as, _ := before["appservice"].(map[string]any)
	if as == nil {
		as = make(map[string]any)
		before["appservice"] = as
	}
	for key, token := range tokens {
		as[key] = token
	}
	return reflect.DeepEqual(before, after)
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new file, never a torn one.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("failed to create temporary config file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("failed to set config file mode: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("failed to write config file: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("failed to sync config file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("failed to close config file: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("failed to replace config file: %w", err)
	}
	// Make the rename itself durable; not every platform can sync a
	// directory, and the new file is already complete, so errors are ignored.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
