// Package meshery imports Meshery pattern files (a YAML document with a
// name, optional vars, and services keyed by name) as kubectl mesh
// Patterns. The result is a Pattern document as YAML nodes that keep the
// Meshery file's lines, so that the pattern loader decodes and validates
// it like any other pattern and its errors point into the Meshery file.
// The package does not import plugin/pattern: the loader calls it.
package meshery

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The Pattern identity, repeated here because plugin/pattern imports this
// package (a test checks that they agree).
const (
	patternAPIVersion = "kubectl-mesh.io/v1alpha1"
	patternKind       = "Pattern"
)

// IsMeshery reports whether a YAML document is a Meshery pattern file: a
// mapping with a services mapping and no apiVersion or kind.
func IsMeshery(doc *yaml.Node) bool {
	root := resolve(doc)
	if root == nil || root.Kind != yaml.MappingNode {
		return false
	}
	if lookup(root, "apiVersion") != nil || lookup(root, "kind") != nil {
		return false
	}
	services := lookup(root, "services")
	return services != nil && services.Kind == yaml.MappingNode
}

// Error is one problem in a Meshery file.
type Error struct {
	File         string
	Line, Column int
	Path         string // services.reviews-vs.type
	Msg          string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Column, e.Path, e.Msg)
}

// Errors are all the problems of one Meshery file, in line order.
type Errors []*Error

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, err := range e {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// Convert turns a Meshery pattern file into a kubectl mesh Pattern
// document. Errors are Errors, naming file:line:column.
func Convert(doc *yaml.Node, file string) (*yaml.Node, error) {
	c := &converter{file: file, root: resolve(doc)}
	out := c.convert()
	if len(c.errs) > 0 {
		slices.SortStableFunc(c.errs, func(a, b *Error) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, c.errs
	}
	return out, nil
}

type converter struct {
	file  string
	root  *yaml.Node
	errs  Errors
	depth int // of references being resolved
}

func (c *converter) fail(at *yaml.Node, path, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.file, Line: at.Line, Column: at.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// service is one entry of services, references filled in.
type service struct {
	key     string
	keyNode *yaml.Node
	node    *yaml.Node // the mapping
	path    string
}

func (s *service) field(name string) *yaml.Node { return lookup(s.node, name) }

// serviceFields are the keys of a Meshery service; id is written by
// Meshery's UI and means nothing here.
var serviceFields = []string{
	"name", "type", "apiVersion", "namespace", "version", "model", "labels",
	"annotations", "dependsOn", "settings", "traits", "id",
}

func (c *converter) convert() *yaml.Node {
	root := c.root
	for _, p := range pairs(root) {
		switch p.key.Value {
		case "name", "version", "vars", "services", "id":
		default:
			c.fail(p.key, p.key.Value, "unknown field %q in a Meshery pattern (name, version, vars, services)", p.key.Value)
		}
	}
	name := c.patternName()
	var services []*service
	for _, p := range pairs(lookup(root, "services")) {
		path := join("services", p.key.Value)
		if p.value.Kind != yaml.MappingNode {
			c.fail(p.key, path, "expected an object, got %s", describe(p.value))
			continue
		}
		filled := c.substitute(p.value, path)
		services = append(services, &service{key: p.key.Value, keyNode: p.key, node: filled, path: path})
	}
	for _, s := range services {
		c.checkFields(s, services)
	}

	var mesh *service
	var objects []*service
	for _, s := range services {
		typ := s.field("type")
		switch {
		case !isString(typ):
			c.fail(s.keyNode, s.path+".type", "a service type is required, e.g. IstioMesh or VirtualService.Istio")
		case typ.Value == "IstioMesh" || typ.Value == "LinkerdMesh":
			if mesh != nil {
				c.fail(typ, s.path+".type", "a pattern targets one mesh; %s already is %s", mesh.key, mesh.field("type").Value)
				continue
			}
			mesh = s
		default:
			objects = append(objects, s)
		}
	}

	namespace := c.patternNamespace(objects, mesh)
	spec := mapping(root)
	var raw []*yaml.Node
	if mesh != nil {
		meshName := "istio"
		if mesh.field("type").Value == "LinkerdMesh" {
			meshName = "linkerd"
		}
		set(spec, "mesh", str(meshName, mesh.field("type")), mesh.keyNode)
		raw = append(raw, c.meshTraits(mesh, meshName, namespace, spec)...)
	} else if meshName, at := impliedMesh(objects); meshName != "" {
		set(spec, "mesh", str(meshName, at), at)
	}
	for _, s := range objects {
		if o := c.object(s); o != nil {
			raw = append(raw, o)
		}
	}
	if len(raw) > 0 {
		set(spec, "raw", seq(root, raw...), root)
	}
	metadata := mapping(root, "name", str(name, keyNode(root, "name")))
	if namespace != nil {
		set(metadata, "namespace", namespace, root)
	}
	return mapping(root,
		"apiVersion", str(patternAPIVersion, root),
		"kind", str(patternKind, root),
		"metadata", metadata,
		"spec", spec,
	)
}

// impliedMesh is the mesh of a pattern without IstioMesh or LinkerdMesh
// whose components all belong to one mesh (Kubernetes kinds belong to
// none), so that render needs neither a cluster nor --mesh for it; "" when
// they belong to none or to several.
func impliedMesh(objects []*service) (string, *yaml.Node) {
	mesh, at := "", (*yaml.Node)(nil)
	for _, s := range objects {
		typ, model := s.field("type"), s.field("model")
		if !isString(typ) {
			continue
		}
		modelName := ""
		if isString(model) {
			modelName = model.Value
		}
		f, _ := objectFamily(typ.Value, modelName)
		switch {
		case f == nil || f.mesh == "":
		case mesh == "":
			mesh, at = f.mesh, typ
		case mesh != f.mesh:
			return "", nil
		}
	}
	return mesh, at
}

// patternName is the Meshery name made a DNS-1123 label.
func (c *converter) patternName() string {
	n := lookup(c.root, "name")
	if !isString(n) || n.Value == "" {
		c.fail(keyNode(c.root, "name"), "name", "a Meshery pattern needs a name")
		return ""
	}
	name := dnsLabel(n.Value)
	if name == "" {
		c.fail(n, "name", "%q has no letters or digits to make a pattern name of", n.Value)
	}
	return name
}

// dnsLabel lowercases s, turns runs of anything but [a-z0-9] into one
// "-", and trims it to 63 characters.
func dnsLabel(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	return out
}

func (c *converter) checkFields(s *service, all []*service) {
	for _, p := range pairs(s.node) {
		if !slices.Contains(serviceFields, p.key.Value) {
			c.fail(p.key, join(s.path, p.key.Value), "unknown field %q in a Meshery service (%s)",
				p.key.Value, strings.Join(serviceFields[:len(serviceFields)-1], ", "))
		}
	}
	deps := s.field("dependsOn")
	if isNull(deps) {
		return
	}
	if deps.Kind != yaml.SequenceNode {
		c.fail(deps, s.path+".dependsOn", "expected a list of service names, got %s", describe(deps))
		return
	}
	for i, d := range deps.Content {
		found := slices.ContainsFunc(all, func(o *service) bool { return o.key == d.Value })
		if !found {
			c.fail(d, fmt.Sprintf("%s.dependsOn[%d]", s.path, i), "unknown service %q", d.Value)
		}
	}
}

// patternNamespace is the namespace of the first object service, else the
// first namespace the mesh's traits name, else none (the -n namespace).
func (c *converter) patternNamespace(objects []*service, mesh *service) *yaml.Node {
	for _, s := range objects {
		if ns := s.field("namespace"); isString(ns) && ns.Value != "" {
			return ns
		}
		if ns := lookup(s.field("settings"), "namespace"); isString(ns) && ns.Value != "" {
			return ns
		}
	}
	if mesh == nil {
		return nil
	}
	traits := mesh.field("traits")
	for _, n := range []*yaml.Node{
		lookup(lookup(traits, "automaticSidecarInjection"), "namespaces"),
		lookup(lookup(traits, "mTLS"), "namespaces"),
	} {
		if n != nil && n.Kind == yaml.SequenceNode && len(n.Content) > 0 && isString(n.Content[0]) {
			return n.Content[0]
		}
	}
	if list := lookup(lookup(traits, "mTLS"), "policies"); list != nil && list.Kind == yaml.SequenceNode && len(list.Content) > 0 {
		if ns := lookup(resolve(list.Content[0]), "namespace"); isString(ns) {
			return ns
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
