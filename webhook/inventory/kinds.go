package inventory

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// namespaceKind is always cached: policies read namespace labels, and the
// audit lists namespaces.
var namespaceKind = policies.Kind{Group: "", Kind: "Namespace"}

// wildcardSkipped are kinds a wildcard never selects: they churn constantly
// and no mesh policy reads them. A policy that names one explicitly still
// gets it.
var wildcardSkipped = []schema.GroupKind{
	{Group: "", Kind: "Event"},
	{Group: "events.k8s.io", Kind: "Event"},
	{Group: "coordination.k8s.io", Kind: "Lease"},
}

// wantedKinds is the union of the kinds the policies review and look up,
// plus Namespaces, without duplicates, in a stable order.
func wantedKinds(metas []policies.Metadata) []policies.Kind {
	kinds := []policies.Kind{namespaceKind}
	for _, md := range metas {
		for _, k := range slices.Concat(md.Kinds, md.Inventory) {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	slices.SortFunc(kinds, func(a, b policies.Kind) int { return strings.Compare(a.String(), b.String()) })
	return kinds
}

// resolveKinds picks, from the server's preferred resources, the version
// to watch of every wanted kind the cluster serves and can list and watch.
// Kinds the cluster does not serve are returned in missing (wildcards never
// are: they match whatever is served).
func resolveKinds(lists []*metav1.APIResourceList, wanted []policies.Kind) (served map[schema.GroupKind]schema.GroupVersionKind, missing []policies.Kind) {
	served = map[schema.GroupKind]schema.GroupVersionKind{}
	found := map[policies.Kind]bool{}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "watch") {
				continue // subresources and kinds that cannot be cached
			}
			gvk := gv.WithKind(r.Kind)
			if r.Group != "" {
				gvk.Group = r.Group
			}
			if r.Version != "" {
				gvk.Version = r.Version
			}
			gk := gvk.GroupKind()
			for _, k := range wanted {
				if !k.Matches(gk.Group, gk.Kind) {
					continue
				}
				exact := k.Group == gk.Group && k.Kind == gk.Kind
				if !exact && slices.Contains(wildcardSkipped, gk) {
					continue
				}
				found[k] = true
				if _, dup := served[gk]; !dup {
					served[gk] = gvk
				}
			}
		}
	}
	for _, k := range wanted {
		if !found[k] && k.Group != "*" && k.Kind != "*" {
			missing = append(missing, k)
		}
	}
	return served, missing
}

func compareGroupKind(a, b schema.GroupKind) int {
	return strings.Compare(a.String(), b.String())
}
