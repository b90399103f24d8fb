package config

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// checkKeys walks a decoded YAML mapping alongside the struct type it is
// meant for and reports, with dotted keys (list items as "key[i]"), what
// yaml.v3's strict decoder only reports with line numbers: unknown keys,
// duplicate keys, and values of the wrong type. It never changes the
// configuration; Parse still decodes with KnownFields(true), which fills
// every key that is right. (Types with their own UnmarshalYAML, such as
// StaffConfig, decode their contents without KnownFields; this walk is what
// reports unknown keys inside them.)
func checkKeys(node *yaml.Node, t reflect.Type, path string, errs *ValidationErrors) {
	node = resolveAlias(node)
	if isNull(node) {
		return
	}
	if node.Kind != yaml.MappingNode {
		errs.add(path, fmt.Sprintf("must be a mapping of keys (line %d)", node.Line))
		return
	}
	fields := yamlFields(t)
	seen := make(map[string]int)
	for i := 0; i+1 < len(node.Content); i += 2 {
		keyNode, valueNode := node.Content[i], node.Content[i+1]
		if keyNode.Tag == "!!merge" {
			checkMerge(valueNode, t, path, errs)
			continue
		}
		name := keyNode.Value
		key := joinKey(path, name)
		if line, dup := seen[name]; dup {
			errs.add(key, fmt.Sprintf("duplicate key (line %d, first at line %d)", keyNode.Line, line))
			continue
		}
		seen[name] = keyNode.Line
		field, ok := fields[name]
		if !ok {
			msg := fmt.Sprintf("unknown key (line %d)", keyNode.Line)
			if guess := closestKey(name, fields); guess != "" {
				msg += fmt.Sprintf("; did you mean %q?", guess)
			}
			errs.add(key, msg)
			continue
		}
		checkValue(valueNode, field.Type, key, errs)
	}
}

// checkValue checks node against type t: sections recursively, lists item
// by item with "key[i]", and mappings such as office_hours entry by entry
// with "key.name".
func checkValue(node *yaml.Node, t reflect.Type, key string, errs *ValidationErrors) {
	node = resolveAlias(node)
	if isNull(node) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		checkKeys(node, t, key, errs)
	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			errs.add(key, fmt.Sprintf("must be a list (line %d)", node.Line))
			return
		}
		for i, item := range node.Content {
			checkValue(item, t.Elem(), fmt.Sprintf("%s[%d]", key, i), errs)
		}
	case reflect.Map:
		checkMap(node, t, key, errs)
	default:
		checkScalar(node, t, key, errs)
	}
}

// checkMap checks a mapping whose keys are data (e.g. weekday names), not
// schema: any key of the right type is allowed, but only once.
func checkMap(node *yaml.Node, t reflect.Type, path string, errs *ValidationErrors) {
	if node.Kind != yaml.MappingNode {
		errs.add(path, fmt.Sprintf("must be a mapping of keys (line %d)", node.Line))
		return
	}
	seen := make(map[string]int)
	for i := 0; i+1 < len(node.Content); i += 2 {
		keyNode, valueNode := resolveAlias(node.Content[i]), node.Content[i+1]
		key := joinKey(path, keyNode.Value)
		if keyNode.Kind != yaml.ScalarNode || keyNode.Decode(reflect.New(t.Key()).Interface()) != nil {
			errs.add(path, fmt.Sprintf("key at line %d must be %s", keyNode.Line, describeKind(t.Key())))
			continue
		}
		if line, dup := seen[keyNode.Value]; dup {
			errs.add(key, fmt.Sprintf("duplicate key (line %d, first at line %d)", keyNode.Line, line))
			continue
		}
		seen[keyNode.Value] = keyNode.Line
		checkValue(valueNode, t.Elem(), key, errs)
	}
}

// checkMerge handles "<<: *anchor" merge keys, whose value is one mapping or
// a list of mappings.
func checkMerge(node *yaml.Node, t reflect.Type, path string, errs *ValidationErrors) {
	node = resolveAlias(node)
	if node.Kind == yaml.SequenceNode {
		for _, item := range node.Content {
			checkKeys(item, t, path, errs)
		}
		return
	}
	checkKeys(node, t, path, errs)
}

// checkScalar decodes node into a throwaway value of type t to find out
// whether the strict decoder would accept it.
func checkScalar(node *yaml.Node, t reflect.Type, key string, errs *ValidationErrors) {
	node = resolveAlias(node)
	if node.Kind != yaml.ScalarNode || node.Decode(reflect.New(t).Interface()) != nil {
		errs.add(key, fmt.Sprintf("must be %s (line %d)", describeKind(t), node.Line))
	}
}

// yamlFields maps the yaml key names of t's exported fields to the fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := make(map[string]reflect.StructField, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f
	}
	return fields
}

// describeKind names what a value of type t looks like in YAML.
func describeKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a single value (text)"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping of keys"
	default:
		return "a " + t.Kind().String()
	}
}

func resolveAlias(node *yaml.Node) *yaml.Node {
	for node.Kind == yaml.AliasNode && node.Alias != nil {
		node = node.Alias
	}
	return node
}

func isNull(node *yaml.Node) bool {
	return node.Kind == yaml.ScalarNode && node.ShortTag() == "!!null"
}

// closestKey returns the known key nearest to name (an edit distance of at
// most a third of its length, at least 1), or "".
func closestKey(name string, fields map[string]reflect.StructField) string {
	best, bestDist := "", max(len(name)/3, 1)+1
	for known := range fields {
		if d := editDistance(name, known); d < bestDist || (d == bestDist && known < best) {
			best, bestDist = known, d
		}
	}
	if bestDist > max(len(name)/3, 1) {
		return ""
	}
	return best
}

// editDistance is the Damerau-Levenshtein distance (adjacent swaps count
// one) of a and b.
func editDistance(a, b string) int {
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// dropDuplicateKeys removes every repeated key (after its first) from the
// mappings under node, so that the strict decoder, which gives up on a
// whole mapping with a duplicate, decodes the rest; checkKeys has reported
// the duplicates already. It reports whether it removed any.
func dropDuplicateKeys(node *yaml.Node) bool {
	changed := false
	if node.Kind == yaml.MappingNode {
		seen := map[string]bool{}
		kept := node.Content[:0]
		for i := 0; i+1 < len(node.Content); i += 2 {
			k := node.Content[i]
			if k.Kind == yaml.ScalarNode && k.Tag != "!!merge" {
				if seen[k.Value] {
					changed = true
					continue
				}
				seen[k.Value] = true
			}
			kept = append(kept, node.Content[i], node.Content[i+1])
		}
		node.Content = kept
	}
	for _, child := range node.Content {
		if dropDuplicateKeys(child) {
			changed = true
		}
	}
	return changed
}

func joinKey(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
