package meshery

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// refPattern is Meshery's reference syntax: $(#ref.vars.ns),
// $(#ref.services.reviews.namespace), $(#ref.services.a.settings.hosts.0).
var refPattern = regexp.MustCompile(`\$\(#ref\.([^)]*)\)`)

// substitute returns a copy of n with every reference in its strings
// replaced, looked up in the document root. A string that is exactly one
// reference takes the referenced value with its type (a port stays a
// number); a reference inside a longer string is spliced in as text.
func (c *converter) substitute(n *yaml.Node, path string) *yaml.Node {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		out := *n
		out.Anchor = ""
		out.Content = make([]*yaml.Node, len(n.Content))
		for i, child := range n.Content {
			childPath := path
			switch {
			case n.Kind == yaml.SequenceNode:
				childPath = path + "[" + strconv.Itoa(i) + "]"
			case i%2 == 1:
				childPath = join(path, n.Content[i-1].Value)
			}
			if n.Kind == yaml.MappingNode && i%2 == 0 {
				out.Content[i] = clone(child) // keys are not substituted
				continue
			}
			out.Content[i] = c.substitute(child, childPath)
		}
		return &out
	case yaml.ScalarNode:
		if !isString(n) || !strings.Contains(n.Value, "$(#ref.") {
			return clone(n)
		}
		return c.fill(n, path)
	}
	return clone(n)
}

func (c *converter) fill(n *yaml.Node, path string) *yaml.Node {
	if m := refPattern.FindStringSubmatch(n.Value); m != nil && m[0] == n.Value {
		ref := c.reference(n, path, m[1])
		if ref == nil {
			return clone(n)
		}
		out := clone(ref)
		out.Line, out.Column = n.Line, n.Column // errors point at the use
		return out
	}
	out := clone(n)
	out.Value = refPattern.ReplaceAllStringFunc(n.Value, func(s string) string {
		ref := c.reference(n, path, refPattern.FindStringSubmatch(s)[1])
		if ref == nil {
			return s
		}
		return ref.Value
	})
	out.Style = 0 // the value changed; let the encoder pick quoting
	out.Tag = "!!str"
	return out
}

// reference resolves one reference to a scalar node, or reports why not.
func (c *converter) reference(at *yaml.Node, path, ref string) *yaml.Node {
	segments := strings.Split(ref, ".")
	n := c.root
	for i, seg := range segments {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			next = lookup(n, seg)
		case yaml.SequenceNode:
			if idx, err := strconv.Atoi(seg); err == nil && idx >= 0 && idx < len(n.Content) {
				next = resolve(n.Content[idx])
			}
		}
		if next == nil {
			c.unknownReference(at, path, ref, segments[:i+1])
			return nil
		}
		n = next
	}
	if n.Kind != yaml.ScalarNode {
		c.fail(at, path, "$(#ref.%s) is %s; only a string or number can be referenced", ref, describe(n))
		return nil
	}
	if isString(n) && strings.Contains(n.Value, "$(#ref.") {
		// The referenced value has references of its own.
		if c.depth >= maxDepth {
			c.fail(at, path, "$(#ref.%s): references nest deeper than %d; is there a cycle?", ref, maxDepth)
			return nil
		}
		c.depth++
		defer func() { c.depth-- }()
		use := clone(n)
		use.Line, use.Column = at.Line, at.Column // report at the first use
		return c.fill(use, path)
	}
	return n
}

// maxDepth bounds references to references, which could form a cycle.
const maxDepth = 8

func (c *converter) unknownReference(at *yaml.Node, path, ref string, upTo []string) {
	if len(upTo) == 2 && upTo[0] == "vars" {
		var names []string
		for _, p := range pairs(lookupOr(c.root, "vars")) {
			names = append(names, p.key.Value)
		}
		slices.Sort(names)
		has := "there are no vars"
		if len(names) > 0 {
			has = "vars has " + strings.Join(names, ", ")
		}
		c.fail(at, path, "unknown variable %q in $(#ref.%s); %s", upTo[1], ref, has)
		return
	}
	c.fail(at, path, "cannot resolve $(#ref.%s): %s does not exist", ref, strings.Join(upTo, "."))
}

// lookupOr is lookup that returns an empty mapping instead of nil.
func lookupOr(m *yaml.Node, key string) *yaml.Node {
	if v := lookup(m, key); v != nil && v.Kind == yaml.MappingNode {
		return v
	}
	return &yaml.Node{Kind: yaml.MappingNode}
}
