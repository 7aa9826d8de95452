package meshery

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// bodyKeys are top-level object fields: settings holding one of them is
// the object's body (the newer Meshery designs), otherwise settings is
// the spec (the older pattern files, as Meshery's adapters applied them).
var bodyKeys = []string{"spec", "data", "stringData", "binaryData", "rules", "subjects", "roleRef", "webhooks"}

// object turns a <Kind>.Istio, <Kind>.Linkerd or <Kind>.K8s service into
// a raw object of the pattern.
func (c *converter) object(s *service) *yaml.Node {
	typ := s.field("type")
	model := ""
	if m := s.field("model"); isString(m) {
		model = m.Value
	}
	apiVersion, kind, ok := objectKind(typ.Value, model)
	if av := s.field("apiVersion"); isString(av) && av.Value != "" {
		if !ok {
			kind = trimSuffixes(typ.Value)
		}
		apiVersion, ok = av.Value, true
	}
	if !ok {
		c.fail(typ, s.path+".type", "unsupported Meshery type %q: kubectl mesh imports IstioMesh, LinkerdMesh, <Kind>.Istio, <Kind>.Linkerd and <Kind>.K8s", typ.Value)
		return nil
	}

	settings := s.field("settings")
	if isNull(settings) {
		settings = &yaml.Node{Kind: yaml.MappingNode, Line: s.keyNode.Line, Column: s.keyNode.Column}
	}
	if settings.Kind != yaml.MappingNode {
		c.fail(settings, s.path+".settings", "expected an object, got %s", describe(settings))
		return nil
	}
	name := str(s.key, s.keyNode)
	if n := s.field("name"); isString(n) && n.Value != "" {
		name = n
	}
	var namespace *yaml.Node
	metadata := mapping(s.keyNode)
	rest := mapping(settings)
	for _, p := range pairs(settings) {
		switch p.key.Value {
		case "name":
			name = p.value
		case "namespace":
			namespace = p.value
		case "metadata":
			for _, m := range pairs(p.value) {
				switch m.key.Value {
				case "name":
					name = m.value
				case "namespace":
					namespace = m.value
				default:
					set(metadata, m.key.Value, m.value, m.key)
				}
			}
		default:
			rest.Content = append(rest.Content, p.key, p.value)
		}
	}
	if ns := s.field("namespace"); isString(ns) && ns.Value != "" {
		namespace = ns
	}
	for _, field := range []string{"labels", "annotations"} {
		if v := s.field(field); !isNull(v) {
			set(metadata, field, v, keyNode(s.node, field))
		}
	}
	set(metadata, "name", name, s.keyNode)
	if namespace != nil {
		set(metadata, "namespace", namespace, s.keyNode)
	}
	metadata.Content = sortedMetadata(metadata.Content)

	obj := mapping(s.keyNode,
		"apiVersion", str(apiVersion, typ),
		"kind", str(kind, typ),
		"metadata", metadata,
	)
	isBody := slices.ContainsFunc(pairs(rest), func(p pair) bool { return slices.Contains(bodyKeys, p.key.Value) })
	switch {
	case isBody:
		obj.Content = append(obj.Content, rest.Content...)
	case len(rest.Content) > 0:
		set(obj, "spec", rest, settings)
	}
	return obj
}

// sortedMetadata puts name and namespace first, as people write them.
func sortedMetadata(content []*yaml.Node) []*yaml.Node {
	rank := map[string]int{"name": 0, "namespace": 1}
	type kv struct{ k, v *yaml.Node }
	var kvs []kv
	for i := 0; i+1 < len(content); i += 2 {
		kvs = append(kvs, kv{content[i], content[i+1]})
	}
	slices.SortStableFunc(kvs, func(a, b kv) int {
		ra, oka := rank[a.k.Value]
		rb, okb := rank[b.k.Value]
		switch {
		case oka && okb:
			return ra - rb
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
	out := make([]*yaml.Node, 0, len(content))
	for _, p := range kvs {
		out = append(out, p.k, p.v)
	}
	return out
}

func trimSuffixes(typ string) string {
	for _, f := range families {
		for _, suffix := range f.suffixes {
			if k, found := strings.CutSuffix(typ, suffix); found && k != "" {
				return k
			}
		}
	}
	return typ
}
