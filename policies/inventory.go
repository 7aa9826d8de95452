package policies

import "github.com/open-policy-agent/opa/v1/ast"

// Inventory holds the cluster objects policies may look up, in Gatekeeper's
// shape so policies written for Gatekeeper's data.inventory read it as is:
//
//	data.inventory.cluster[apiVersion][kind][name]
//	data.inventory.namespace[namespace][apiVersion][kind][name]
//
// The trees hold the objects as added; they are sanitized when the
// document is built, so an engine can reuse what it converted last time.
type Inventory struct {
	cluster   map[string]any
	namespace map[string]any
	count     int
}

// NewInventory returns an empty inventory.
func NewInventory() *Inventory {
	return &Inventory{cluster: map[string]any{}, namespace: map[string]any{}}
}

// Add records obj, which neither Add nor the caller may modify afterwards.
// Objects with a namespace go under namespace, the rest under cluster.
// Objects without kind or name are ignored.
func (inv *Inventory) Add(obj map[string]any) {
	inv.add(obj, obj)
}

// AddValue records obj with its AST value, which the inventory uses as is
// when the object holds nothing sanitize drops: check converts each object
// once for its review and the inventory.
func (inv *Inventory) AddValue(obj map[string]any, value ast.Value) {
	inv.add(obj, valued{obj: obj, value: value})
}

// valued is an inventory leaf with its AST value.
type valued struct {
	obj   map[string]any
	value ast.Value
}

func (inv *Inventory) add(obj map[string]any, leaf any) {
	apiVersion, kind, namespace, name, ok := identity(obj)
	if !ok {
		return
	}
	root := inv.cluster
	if namespace != "" {
		root = child(inv.namespace, namespace)
	}
	byName := child(child(root, apiVersion), kind)
	if _, exists := byName[name]; !exists {
		inv.count++
	}
	byName[name] = leaf
}

// identity is where obj goes in the inventory; ok is false for an object
// without apiVersion, kind or name, which the inventory ignores.
func identity(obj map[string]any) (apiVersion, kind, namespace, name string, ok bool) {
	apiVersion, _ = obj["apiVersion"].(string)
	kind, _ = obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ = meta["name"].(string)
	namespace, _ = meta["namespace"].(string)
	return apiVersion, kind, namespace, name, apiVersion != "" && kind != "" && name != ""
}

// Len is the number of objects held.
func (inv *Inventory) Len() int { return inv.count }

// document builds the data.inventory document with each object replaced by
// convert(object, its AST value or nil).
func (inv *Inventory) document(convert func(obj map[string]any, value ast.Value) (any, error)) (map[string]any, error) {
	cluster, err := mapLeaves(inv.cluster, 3, convert)
	if err != nil {
		return nil, err
	}
	namespace, err := mapLeaves(inv.namespace, 4, convert)
	if err != nil {
		return nil, err
	}
	return map[string]any{"cluster": cluster, "namespace": namespace}, nil
}

// mapLeaves copies a tree of depth levels, converting the objects at its leaves.
func mapLeaves(tree map[string]any, depth int, convert func(obj map[string]any, value ast.Value) (any, error)) (map[string]any, error) {
	out := make(map[string]any, len(tree))
	for k, v := range tree {
		var err error
		switch leaf := v.(type) {
		case valued:
			out[k], err = convert(leaf.obj, leaf.value)
		case map[string]any:
			if depth == 1 {
				out[k], err = convert(leaf, nil)
			} else {
				out[k], err = mapLeaves(leaf, depth-1, convert)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func child(m map[string]any, key string) map[string]any {
	if c, ok := m[key].(map[string]any); ok {
		return c
	}
	c := map[string]any{}
	m[key] = c
	return c
}

// Secret keys the inventory keeps: certificates, never keys or tokens.
// crt.pem is the certificate of Linkerd's own issuer Secret scheme; cert
// and cacert those of Istio's generic gateway credential.
var publicSecretKeys = []string{"tls.crt", "ca.crt", "crt.pem", "cert", "cacert"}

// sanitized reports whether sanitize would return obj unchanged.
func sanitized(obj map[string]any) bool {
	if obj["kind"] == "Secret" && obj["apiVersion"] == "v1" {
		return false
	}
	meta, _ := obj["metadata"].(map[string]any)
	if _, ok := meta["managedFields"]; ok {
		return false
	}
	ann, _ := meta["annotations"].(map[string]any)
	_, ok := ann["kubectl.kubernetes.io/last-applied-configuration"]
	return !ok
}

// sanitize drops what no policy needs and what must never reach a policy
// message: managed fields, the last-applied copy, and Secret data other
// than certificates.
func sanitize(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	if meta, ok := obj["metadata"].(map[string]any); ok {
		m := make(map[string]any, len(meta))
		for k, v := range meta {
			if k != "managedFields" {
				m[k] = v
			}
		}
		if ann, ok := meta["annotations"].(map[string]any); ok {
			if _, has := ann["kubectl.kubernetes.io/last-applied-configuration"]; has {
				a := make(map[string]any, len(ann))
				for k, v := range ann {
					if k != "kubectl.kubernetes.io/last-applied-configuration" {
						a[k] = v
					}
				}
				m["annotations"] = a
			}
		}
		out["metadata"] = m
	}
	if obj["kind"] == "Secret" && obj["apiVersion"] == "v1" {
		out["data"] = publicSecretData(obj["data"])
		delete(out, "stringData")
		if certs := publicSecretData(obj["stringData"]); len(certs) > 0 {
			out["stringData"] = certs
		}
	}
	return out
}

// publicSecretData is the certificates of a Secret's data or stringData.
func publicSecretData(v any) map[string]any {
	data := map[string]any{}
	if d, ok := v.(map[string]any); ok {
		for _, k := range publicSecretKeys {
			if v, ok := d[k]; ok {
				data[k] = v
			}
		}
	}
	return data
}

// InventoryDocument returns the data.inventory document, for tools and
// benchmarks that evaluate Rego without the engine.
func InventoryDocument(inv *Inventory) map[string]any {
	doc, _ := inv.document(func(obj map[string]any, _ ast.Value) (any, error) { return sanitize(obj), nil })
	return doc
}
