package apply

import (
	"context"
	"slices"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

// Delete and prune remove in the reverse of apply's tiers: every route
// goes before the DestinationRules and Services it names, Namespaces last,
// whatever order the members were listed in and however many workers run.
func TestRemoveAllInReverseDependencyOrder(t *testing.T) {
	members := []*unstructured.Unstructured{
		obj("v1", "Namespace", "", "bookinfo"),
		obj("v1", "Service", "bookinfo", "reviews"),
		obj("networking.istio.io/v1", "DestinationRule", "bookinfo", "reviews"),
		obj("v1", "ServiceAccount", "bookinfo", "reviews"),
		obj("networking.istio.io/v1", "VirtualService", "bookinfo", "reviews"),
		obj("networking.istio.io/v1", "VirtualService", "bookinfo", "ratings"),
		obj("v1", "Service", "bookinfo", "ratings"),
	}
	// A shared Service is released (read, found gone) in its tier too.
	shared := []Ref{{Version: "v1", Kind: "Service", Namespace: "bookinfo", Name: "shared"}}
	for _, tt := range []struct {
		name    string
		action  Action
		workers int
	}{
		{"delete, one worker", Deleted, 1},
		{"delete, many workers", Deleted, 64},
		{"prune, many workers", Pruned, 64},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := testClient()
			dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
			var (
				mu    sync.Mutex
				order []Ref
			)
			dyn.PrependReactor("*", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
				var name string
				switch a := a.(type) {
				case k8stesting.DeleteAction:
					name = a.GetName()
				case k8stesting.GetAction:
					name = a.GetName()
				default:
					return false, nil, nil
				}
				mu.Lock()
				defer mu.Unlock()
				order = append(order, Ref{Group: a.GetResource().Group, Kind: kindOf(a.GetResource()), Namespace: a.GetNamespace(), Name: name})
				return false, nil, nil
			})
			c.dyn = dyn

			results := c.removeAll(context.Background(), members, shared, tt.action, false, tt.workers)
			for i, r := range results {
				want := tt.action
				if i >= len(members) {
					want = Released
				}
				if r.Err != nil || r.Action != want {
					t.Errorf("%s: %s %v, want %s", r.Ref, r.Action, r.Err, want)
				}
			}
			if len(order) != len(members)+len(shared) {
				t.Fatalf("%d requests, want one per object: %v", len(order), order)
			}
			tierSeq := make([]int, len(order))
			for i, r := range order {
				tierSeq[i] = tierOf(r)
			}
			if !slices.IsSortedFunc(tierSeq, func(a, b int) int { return b - a }) {
				t.Errorf("removed in the order %v (tiers %v), want routes first and Namespaces last", order, tierSeq)
			}
		})
	}
}

// kindOf maps the test's resources back to kinds.
func kindOf(gvr schema.GroupVersionResource) string {
	return map[string]string{
		"namespaces": "Namespace", "services": "Service", "serviceaccounts": "ServiceAccount",
		"destinationrules": "DestinationRule", "virtualservices": "VirtualService",
	}[gvr.Resource]
}
