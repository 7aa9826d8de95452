package pattern

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder fills Go values from YAML nodes strictly: unknown fields,
// duplicate fields and wrong types are errors naming file:line:column and
// the field path. It records the position of every path it visits.
type decoder struct {
	file string
	pos  map[string]Position
	errs Errors
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]Position{}}
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{
		File: d.file, Pos: Position{n.Line, n.Column}, Path: path, Msg: fmt.Sprintf(format, args...),
	})
}

func (d *decoder) mark(n *yaml.Node, path string) {
	if _, seen := d.pos[path]; !seen {
		d.pos[path] = Position{n.Line, n.Column}
	}
}

// decode fills v (settable) from n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	if isNull(n) {
		return // absent and null are the same: the zero value
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.decode(n, elem.Elem(), path)
		v.Set(elem)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			p := indexPath(path, i)
			d.mark(item, p)
			d.decode(item, s.Index(i), p)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			hint := ""
			if n.Kind == yaml.ScalarNode {
				hint = " (quote it)"
			}
			d.fail(n, path, "expected a string, got %s%s", describe(n), hint)
			return
		}
		v.SetString(n.Value)
	case reflect.Int32, reflect.Int64, reflect.Int:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.fail(n, path, "expected an integer, got %s", describe(n))
			return
		}
		if v.OverflowInt(i) {
			d.fail(n, path, "%d is out of range", i)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		var f float64
		tag := n.ShortTag()
		if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil ||
			math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, path, "expected a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.fail(n, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Interface:
		if val, ok := d.generic(n, path); ok && val != nil {
			v.Set(reflect.ValueOf(val))
		}
	default:
		// Only reachable if types.go gains a kind the decoder does not know.
		d.fail(n, path, "cannot decode into %s", v.Type())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected an object, got %s", describe(n))
		return
	}
	fields := jsonFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		name, ok := d.key(key, path)
		if !ok {
			continue
		}
		p := appendPath(path, name)
		if seen[name] {
			d.fail(key, p, "duplicate field %q", name)
			continue
		}
		seen[name] = true
		idx, known := fields[name]
		if !known {
			d.fail(key, p, "unknown field %q", name)
			continue
		}
		d.mark(key, p)
		d.decode(value, v.Field(idx), p)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected an object, got %s", describe(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		name, ok := d.key(key, path)
		if !ok {
			continue
		}
		p := appendPath(path, name)
		if m.MapIndex(reflect.ValueOf(name)).IsValid() {
			d.fail(key, p, "duplicate key %q", name)
			continue
		}
		d.mark(key, p)
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(value, elem, p)
		m.SetMapIndex(reflect.ValueOf(name), elem)
	}
	v.Set(m)
}

// key reads a mapping key, which must be a plain string.
func (d *decoder) key(key *yaml.Node, path string) (string, bool) {
	key = resolve(key)
	if key.Kind != yaml.ScalarNode {
		d.fail(key, path, "a key must be a string, got %s", describe(key))
		return "", false
	}
	if key.Value == "<<" && key.ShortTag() == "!!merge" {
		d.fail(key, path, "YAML merge keys (<<) are not supported")
		return "", false
	}
	return key.Value, true
}

// generic converts a node into JSON-compatible values (map[string]any,
// []any, string, int64, float64, bool, nil), which unstructured objects
// need: raw passthrough ends in Unstructured.DeepCopy.
func (d *decoder) generic(n *yaml.Node, path string) (any, bool) {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			name, ok := d.key(n.Content[i], path)
			if !ok {
				continue
			}
			p := appendPath(path, name)
			if _, dup := m[name]; dup {
				d.fail(n.Content[i], p, "duplicate key %q", name)
				continue
			}
			d.mark(n.Content[i], p)
			if val, ok := d.generic(n.Content[i+1], p); ok {
				m[name] = val
			}
		}
		return m, true
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			p := indexPath(path, i)
			d.mark(item, p)
			val, _ := d.generic(item, p)
			s = append(s, val)
		}
		return s, true
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return b, true
			}
		case "!!int":
			var i int64
			if n.Decode(&i) == nil {
				return i, true
			}
			var f float64 // beyond int64: keep it as a number
			if n.Decode(&f) == nil {
				return f, true
			}
		case "!!float":
			var f float64
			if n.Decode(&f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f, true
			}
			d.fail(n, path, "%s is not a JSON number", n.Value)
			return nil, false
		}
		return n.Value, true // strings, timestamps, binary: as written
	}
	d.fail(n, path, "unexpected YAML node")
	return nil, false
}

// jsonFields maps json names to struct field indexes.
func jsonFields(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = i
	}
	return fields
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return resolve(n.Content[0])
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node holds, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			return strconv.Quote(n.Value)
		}
		return n.Value
	}
	return "nothing"
}
