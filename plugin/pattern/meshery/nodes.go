package meshery

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// The Pattern document is built as YAML nodes that carry the line and
// column of the Meshery text they came from, so that errors found later
// (decoding, validation) point into the Meshery file.

func str(s string, at *yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Line: at.Line, Column: at.Column}
}

func seq(at *yaml.Node, items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items, Line: at.Line, Column: at.Column}
}

// mapping builds a mapping from key, value pairs; nil values are left out.
func mapping(at *yaml.Node, pairs ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: at.Line, Column: at.Column}
	for i := 0; i+1 < len(pairs); i += 2 {
		v, _ := pairs[i+1].(*yaml.Node)
		if v == nil {
			continue
		}
		set(m, pairs[i].(string), v, at)
	}
	return m
}

// set adds or replaces key in mapping m.
func set(m *yaml.Node, key string, v *yaml.Node, at *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, str(key, at), v)
}

// pair is one key and value of a mapping, in document order.
type pair struct {
	key   *yaml.Node
	value *yaml.Node
}

func pairs(m *yaml.Node) []pair {
	var out []pair
	for i := 0; i+1 < len(m.Content); i += 2 {
		out = append(out, pair{key: m.Content[i], value: resolve(m.Content[i+1])})
	}
	return out
}

// lookup returns the value of key in mapping m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

// keyNode returns the key node of key in mapping m, or m itself.
func keyNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return m
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return resolve(n.Content[0])
	}
	return n
}

func isString(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str"
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "an object"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isString(n):
		return strconv.Quote(n.Value)
	}
	return n.Value
}

// clone deep-copies a node tree, following aliases.
func clone(n *yaml.Node) *yaml.Node {
	n = resolve(n)
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		c.Content[i] = clone(child)
	}
	c.Anchor = ""
	return &c
}
