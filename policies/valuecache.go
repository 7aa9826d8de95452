package policies

import (
	"fmt"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// valueCache keeps each inventory object's sanitized AST value from one
// SetInventory to the next: converting 1,000 objects was nine tenths of a
// rebuild, and between two rebuilds few objects change.
type valueCache struct {
	mu     sync.Mutex
	values map[objectVersion]ast.Value
}

// objectVersion identifies one version of one object as the apiserver
// served it. apiVersion and kind are part of it because one object can be
// listed under two kinds (extensions and networking.k8s.io Ingress).
type objectVersion struct {
	apiVersion, kind, uid, resourceVersion string
}

// document converts inv to the data.inventory document, reusing the value
// of every object whose uid and resourceVersion it converted last time.
// Objects without either (files, tests) are converted every time. Values
// of objects no longer in inv are dropped.
func (c *valueCache) document(inv *Inventory) (map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := make(map[objectVersion]ast.Value, len(c.values))
	doc, err := inv.document(func(obj map[string]any, value ast.Value) (any, error) {
		key, ok := versionOf(obj)
		if v, hit := c.values[key]; ok && hit {
			next[key] = v
			return v, nil
		}
		if value != nil && sanitized(obj) {
			if ok {
				next[key] = value
			}
			return value, nil
		}
		v, err := ast.InterfaceToValue(sanitize(obj))
		if err != nil {
			return nil, fmt.Errorf("converting an inventory object: %w", err)
		}
		if ok {
			next[key] = v
		}
		return v, nil
	})
	if err != nil {
		return nil, err
	}
	c.values = next
	return doc, nil
}

func versionOf(obj map[string]any) (objectVersion, bool) {
	meta, _ := obj["metadata"].(map[string]any)
	key := objectVersion{}
	key.apiVersion, _ = obj["apiVersion"].(string)
	key.kind, _ = obj["kind"].(string)
	key.uid, _ = meta["uid"].(string)
	key.resourceVersion, _ = meta["resourceVersion"].(string)
	return key, key.uid != "" && key.resourceVersion != ""
}
