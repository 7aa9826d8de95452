package policies

// Inventory holds the cluster objects policies may look up, in Gatekeeper's
// shape so policies written for Gatekeeper's data.inventory read it as is:
//
//	data.inventory.cluster[apiVersion][kind][name]
//	data.inventory.namespace[namespace][apiVersion][kind][name]
type Inventory struct {
	cluster   map[string]any
	namespace map[string]any
	count     int
}

// NewInventory returns an empty inventory.
func NewInventory() *Inventory {
	return &Inventory{cluster: map[string]any{}, namespace: map[string]any{}}
}

// Add records obj (without mutating it). Objects with a namespace go under
// namespace, the rest under cluster. Objects without kind or name are ignored.
func (inv *Inventory) Add(obj map[string]any) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	namespace, _ := meta["namespace"].(string)
	if apiVersion == "" || kind == "" || name == "" {
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
	byName[name] = sanitize(obj)
}

// Len is the number of objects held.
func (inv *Inventory) Len() int { return inv.count }

func (inv *Inventory) value() map[string]any {
	return map[string]any{"cluster": inv.cluster, "namespace": inv.namespace}
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
// crt.pem is the certificate of Linkerd's own issuer Secret scheme.
var publicSecretKeys = []string{"tls.crt", "ca.crt", "crt.pem"}

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
		delete(out, "stringData")
		data := map[string]any{}
		if d, ok := obj["data"].(map[string]any); ok {
			for _, k := range publicSecretKeys {
				if v, ok := d[k]; ok {
					data[k] = v
				}
			}
		}
		out["data"] = data
	}
	return out
}

// InventoryDocument returns the data.inventory document, for tools and
// benchmarks that evaluate Rego without the engine.
func InventoryDocument(inv *Inventory) map[string]any {
	return inv.value()
}
