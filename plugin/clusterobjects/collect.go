// Package clusterobjects lists, from a live cluster, the objects kubectl
// mesh check reviews and the inventory its policies look things up in.
package clusterobjects

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
)

// Scope is which objects are reviewed: one namespace, or all of them.
type Scope struct {
	Namespace     string
	AllNamespaces bool
}

// In reports whether an object is reviewed in this scope. A namespace's own
// Namespace object belongs to it.
func (s Scope) In(obj manifest.Object) bool {
	if s.AllNamespaces {
		return true
	}
	if obj.Namespace() == "" {
		return obj.APIVersion() == "v1" && obj.Kind() == "Namespace" && obj.Name() == s.Namespace
	}
	return obj.Namespace() == s.Namespace
}

// Collector lists objects through a dynamic client.
type Collector struct {
	Mapper  meta.RESTMapper
	Dynamic dynamic.Interface
	// PageSize bounds each list call, as kubectl get --chunk-size does.
	PageSize int64
}

// Result is what Collect listed.
type Result struct {
	// Objects are every object of the listed kinds that could be read.
	Objects []manifest.Object
	// Skipped are kinds the cluster does not serve (CRD not installed).
	Skipped []policies.Kind
	// Warnings are kinds that could not be listed cluster-wide and were
	// listed in the scope's namespace only, or not at all.
	Warnings []error
}

// Collect lists every object of kinds: across all namespaces, so lookups
// across namespaces work, falling back to the scope's namespace when
// cluster-wide listing is forbidden.
func (c *Collector) Collect(ctx context.Context, kinds []policies.Kind, scope Scope) (*Result, error) {
	res := &Result{}
	for _, k := range uniqueKinds(kinds) {
		mapping, err := c.Mapper.RESTMapping(schema.GroupKind{Group: k.Group, Kind: k.Kind})
		if meta.IsNoMatchError(err) {
			res.Skipped = append(res.Skipped, k)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("finding the resource of %s: %w", k, err)
		}
		resource := c.Dynamic.Resource(mapping.Resource)
		var objs []manifest.Object
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			objs, err = c.list(ctx, resource.Namespace(metav1.NamespaceAll))
			if apierrors.IsForbidden(err) && !scope.AllNamespaces {
				res.Warnings = append(res.Warnings, fmt.Errorf("cannot list %s in all namespaces (%v); looking in namespace %s only", mapping.Resource.GroupResource(), err, scope.Namespace))
				objs, err = c.list(ctx, resource.Namespace(scope.Namespace))
			}
		} else {
			objs, err = c.list(ctx, resource)
		}
		if apierrors.IsForbidden(err) {
			res.Warnings = append(res.Warnings, fmt.Errorf("cannot list %s: %w", mapping.Resource.GroupResource(), err))
			continue
		}
		if apierrors.IsNotFound(err) {
			// A stale discovery cache named a kind whose CRD is gone.
			res.Skipped = append(res.Skipped, k)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", mapping.Resource.GroupResource(), err)
		}
		res.Objects = append(res.Objects, objs...)
	}
	return res, nil
}

func (c *Collector) list(ctx context.Context, r dynamic.ResourceInterface) ([]manifest.Object, error) {
	var out []manifest.Object
	opts := metav1.ListOptions{Limit: c.PageSize}
	for {
		list, err := r.List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			item := list.Items[i]
			// Lists drop apiVersion and kind from items on some servers.
			if item.GetKind() == "" {
				item.SetAPIVersion(list.GetAPIVersion())
				item.SetKind(stringsTrimList(list.GetKind()))
			}
			out = append(out, manifest.Object{Content: item.Object})
		}
		if opts.Continue = list.GetContinue(); opts.Continue == "" {
			return out, nil
		}
	}
}

func stringsTrimList(kind string) string {
	if len(kind) > 4 && kind[len(kind)-4:] == "List" {
		return kind[:len(kind)-4]
	}
	return kind
}

// uniqueKinds drops duplicates and wildcards: a wildcard cannot be listed.
func uniqueKinds(kinds []policies.Kind) []policies.Kind {
	var out []policies.Kind
	for _, k := range kinds {
		if k.Group == "*" || k.Kind == "*" || slices.Contains(out, k) {
			continue
		}
		out = append(out, k)
	}
	return out
}
