package apply

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// item is one object ready to send.
type item struct {
	obj     *unstructured.Unstructured
	ref     Ref
	mapping *meta.RESTMapping
	shared  bool
}

// Tiers, applied in order: what others refer to goes first.
const (
	tierNamespaces = iota
	tierAccounts
	tierTargets
	tierRest
)

// tierOf returns the tier of a kind: Namespaces (and CRDs) first, then
// ServiceAccounts and Services (what routes and policies point at), then
// what routes name (subsets, Servers, route groups), then everything
// else, so that admission webhooks that look references up find them.
func tierOf(r Ref) int {
	switch r.GroupKind().String() {
	case "Namespace", "CustomResourceDefinition.apiextensions.k8s.io":
		return tierNamespaces
	case "ServiceAccount", "Service":
		return tierAccounts
	case "DestinationRule.networking.istio.io", "ServiceEntry.networking.istio.io",
		"Server.policy.linkerd.io", "MeshTLSAuthentication.policy.linkerd.io", "HTTPRouteGroup.specs.smi-spec.io":
		return tierTargets
	}
	return tierRest
}

// tiers groups the indexes of refs by tier, keeping their order within a
// tier. Apply goes through the tiers in order, removal in reverse.
func tiers(refs []Ref) [][]int {
	out := make([][]int, tierRest+1)
	for i, r := range refs {
		t := tierOf(r)
		out[t] = append(out[t], i)
	}
	return out
}

// refsOf are the refs of items, in order.
func refsOf(items []item) []Ref {
	refs := make([]Ref, len(items))
	for i, it := range items {
		refs[i] = it.ref
	}
	return refs
}

// prepare checks and resolves every object before anything is sent:
// kinds the cluster does not serve and duplicates fail the whole run.
// Objects are copied; members get the part-of label.
func (c *Client) prepare(s Set, objs []translate.Object) ([]item, error) {
	items := make([]item, 0, len(objs))
	seen := map[string]bool{}
	// The discovery mapper locks and searches on every call; a pattern
	// has a handful of kinds and a thousand objects.
	mappings := map[schema.GroupVersionKind]*meta.RESTMapping{}
	for i, o := range objs {
		if o.Unstructured == nil {
			return nil, fmt.Errorf("object %d: empty", i)
		}
		u := o.DeepCopy()
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("object %d: apiVersion, kind and metadata.name are required", i)
		}
		gvk := u.GroupVersionKind()
		m, ok := mappings[gvk]
		if !ok {
			var err error
			if m, err = c.mapping(gvk); err != nil {
				return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
			}
			mappings[gvk] = m
		}
		if m.Scope.Name() == meta.RESTScopeNameRoot {
			u.SetNamespace("")
		} else if u.GetNamespace() == "" {
			u.SetNamespace(s.Namespace)
		}
		if !o.Shared {
			labels := u.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[LabelPartOf] = s.ID()
			u.SetLabels(labels)
		}
		ref := RefOf(u)
		if seen[ref.key()] {
			return nil, fmt.Errorf("%s appears twice in namespace %q", ref, ref.Namespace)
		}
		seen[ref.key()] = true
		items = append(items, item{obj: u, ref: ref, mapping: m, shared: o.Shared})
	}
	return items, nil
}

// stateFor is the parent state that tracks items.
func stateFor(s Set, items []item) parentState {
	st := newParentState(s.Namespace)
	for _, it := range items {
		if it.shared {
			st.shared = append(st.shared, it.ref)
			continue
		}
		st.kinds.Insert(it.ref.GroupKind())
		if it.ref.Namespace != "" {
			st.namespaces.Insert(it.ref.Namespace)
		}
	}
	sort.Slice(st.shared, func(i, j int) bool { return st.shared[i].key() < st.shared[j].key() })
	return st
}
