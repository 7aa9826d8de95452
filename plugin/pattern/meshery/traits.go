package meshery

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// mtlsPolicy is one namespace's mTLS mode from the mTLS trait.
type mtlsPolicy struct {
	name      string
	namespace *yaml.Node // nil: the pattern's namespace
	mode      string
	at        *yaml.Node
	path      string
}

// meshTraits applies the traits of the IstioMesh or LinkerdMesh service
// to spec and returns the raw objects they need (PeerAuthentications for
// namespaces other than the pattern's).
func (c *converter) meshTraits(mesh *service, meshName string, namespace *yaml.Node, spec *yaml.Node) []*yaml.Node {
	traits := mesh.field("traits")
	if isNull(traits) {
		return nil
	}
	path := mesh.path + ".traits"
	if traits.Kind != yaml.MappingNode {
		c.fail(traits, path, "expected an object, got %s", describe(traits))
		return nil
	}
	var raw []*yaml.Node
	for _, p := range pairs(traits) {
		tpath := join(path, p.key.Value)
		switch strings.ToLower(p.key.Value) {
		case "mtls":
			raw = append(raw, c.mtls(p.value, tpath, meshName, namespace, spec)...)
		case "automaticsidecarinjection":
			if ns := c.injection(p.value, tpath); ns != nil {
				set(spec, "injection", mapping(p.key, "namespaces", ns), p.key)
			}
		case "meshmap": // Meshery UI layout
		default:
			c.fail(p.key, tpath, "unsupported trait %q (mTLS, automaticSidecarInjection)", p.key.Value)
		}
	}
	return raw
}

func (c *converter) injection(n *yaml.Node, path string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		c.fail(n, path, "expected an object with namespaces, got %s", describe(n))
		return nil
	}
	out := seq(n)
	for _, p := range pairs(n) {
		switch p.key.Value {
		case "namespaces":
			if p.value.Kind != yaml.SequenceNode {
				c.fail(p.value, path+".namespaces", "expected a list of namespaces, got %s", describe(p.value))
				continue
			}
			out.Content = append(out.Content, p.value.Content...)
		case "namespace": // the older single-namespace form
			out.Content = append(out.Content, p.value)
		default:
			c.fail(p.key, join(path, p.key.Value), "unknown field %q (namespaces)", p.key.Value)
		}
	}
	if len(out.Content) == 0 {
		c.fail(n, path, "no namespaces to inject")
		return nil
	}
	return out
}

// mtls reads the trait in any of its shapes: a bare mode; {policy,
// namespaces} (Meshery's Istio adapter); {mode, namespace(s)};
// {policies: [{name, namespace, mode}]}.
func (c *converter) mtls(n *yaml.Node, path, meshName string, namespace, spec *yaml.Node) []*yaml.Node {
	var policies []mtlsPolicy
	switch {
	case n.Kind == yaml.ScalarNode:
		policies = append(policies, mtlsPolicy{mode: n.Value, at: n, path: path})
	case n.Kind == yaml.MappingNode && lookup(n, "policies") != nil:
		list := lookup(n, "policies")
		if list.Kind != yaml.SequenceNode {
			c.fail(list, path+".policies", "expected a list, got %s", describe(list))
			return nil
		}
		for i, item := range list.Content {
			item = resolve(item)
			ipath := fmt.Sprintf("%s.policies[%d]", path, i)
			p := mtlsPolicy{at: item, path: ipath}
			for _, f := range pairs(item) {
				switch f.key.Value {
				case "name":
					p.name = f.value.Value
				case "namespace":
					p.namespace = f.value
				case "mode":
					p.mode, p.at = f.value.Value, f.value
				default:
					c.fail(f.key, join(ipath, f.key.Value), "unknown field %q (name, namespace, mode)", f.key.Value)
				}
			}
			policies = append(policies, p)
		}
	case n.Kind == yaml.MappingNode:
		var mode *yaml.Node
		var namespaces []*yaml.Node
		for _, f := range pairs(n) {
			switch f.key.Value {
			case "policy", "mode":
				mode = f.value
			case "namespace":
				namespaces = append(namespaces, f.value)
			case "namespaces":
				if f.value.Kind == yaml.SequenceNode {
					namespaces = append(namespaces, f.value.Content...)
				}
			default:
				c.fail(f.key, join(path, f.key.Value), "unknown field %q (policy, namespaces, policies)", f.key.Value)
			}
		}
		if mode == nil {
			c.fail(n, path, "the mTLS trait needs a policy (strict, permissive, disable)")
			return nil
		}
		if len(namespaces) == 0 {
			namespaces = []*yaml.Node{nil}
		}
		for _, ns := range namespaces {
			policies = append(policies, mtlsPolicy{namespace: ns, mode: mode.Value, at: mode, path: path})
		}
	default:
		c.fail(n, path, "expected a mode or an object, got %s", describe(n))
		return nil
	}

	var raw []*yaml.Node
	var patternMode *yaml.Node
	for _, p := range policies {
		mode, ok := mtlsMode(p.mode)
		if !ok {
			c.fail(p.at, p.path, "unknown mTLS mode %q (strict, permissive, disable)", p.mode)
			continue
		}
		if p.namespace == nil || namespace == nil || p.namespace.Value == namespace.Value {
			if patternMode != nil && patternMode.Value != mode {
				c.fail(p.at, p.path, "mTLS mode %s conflicts with %s set above for the pattern's namespace", mode, patternMode.Value)
				continue
			}
			patternMode = str(mode, p.at)
			continue
		}
		if meshName != "istio" {
			c.fail(p.at, p.path, "%s: mTLS for namespace %q cannot be imported; a linkerd pattern sets mTLS for its own namespace %q only",
				meshName, p.namespace.Value, namespace.Value)
			continue
		}
		name := cmpOr(p.name, "default")
		raw = append(raw, mapping(p.at,
			"apiVersion", str(istioKinds["PeerAuthentication"], p.at),
			"kind", str("PeerAuthentication", p.at),
			"metadata", mapping(p.at, "name", str(name, p.at), "namespace", p.namespace),
			"spec", mapping(p.at, "mtls", mapping(p.at, "mode", str(mode, p.at))),
		))
	}
	if patternMode != nil {
		set(spec, "mtls", patternMode, patternMode)
	}
	return raw
}

// mtlsMode maps Meshery's policy names to PeerAuthentication modes.
// Meshery's "mutual" was Istio's mutual TLS policy, which is STRICT.
func mtlsMode(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "strict", "mutual":
		return "STRICT", true
	case "permissive":
		return "PERMISSIVE", true
	case "disable", "disabled":
		return "DISABLE", true
	}
	return "", false
}

func cmpOr(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
