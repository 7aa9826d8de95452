package cmdtesting_test

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
)

// TestApplyClientFake checks the fake apiserver behaves as the apply
// client relies on.
func TestApplyClientFake(t *testing.T) {
	ctx := context.Background()
	gvr := schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}
	named := func(name, host string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
			"metadata": map[string]any{"name": name, "namespace": "shop"},
			"spec":     map[string]any{"hosts": []any{host}},
		}}
	}
	vs := func(host string) *unstructured.Unstructured { return named("reviews", host) }
	_, dyn := cmdtesting.NewApplyClient(t, named("seeded", "ratings"))
	ri := dyn.Resource(gvr).Namespace("shop")
	if seeded, err := ri.Get(ctx, "seeded", metav1.GetOptions{}); err != nil || seeded.GetResourceVersion() == "" {
		t.Fatalf("seeded object %v without a resourceVersion: %v", seeded, err)
	}

	apply := func(u *unstructured.Unstructured, manager string, force bool, dryRun ...string) (*unstructured.Unstructured, error) {
		return ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: manager, Force: force, DryRun: dryRun})
	}
	first, err := apply(vs("reviews"), "kubectl-mesh", false)
	if err != nil {
		t.Fatal(err)
	}
	if first.GetResourceVersion() == "" || len(first.GetManagedFields()) != 1 || first.GetManagedFields()[0].Manager != "kubectl-mesh" {
		t.Errorf("created: version %q, managed fields %v", first.GetResourceVersion(), first.GetManagedFields())
	}
	again, err := apply(vs("reviews"), "kubectl-mesh", false)
	if err != nil || again.GetResourceVersion() != first.GetResourceVersion() {
		t.Errorf("an apply that changes nothing wrote: version %s, was %s (%v)", again.GetResourceVersion(), first.GetResourceVersion(), err)
	}
	dry, err := apply(vs("ratings"), "kubectl-mesh", false, metav1.DryRunAll)
	if err != nil {
		t.Fatal(err)
	}
	live, _ := ri.Get(ctx, "reviews", metav1.GetOptions{})
	if hosts, _, _ := unstructured.NestedStringSlice(dry.Object, "spec", "hosts"); hosts[0] != "ratings" {
		t.Errorf("dry run answered %v", hosts)
	}
	if hosts, _, _ := unstructured.NestedStringSlice(live.Object, "spec", "hosts"); hosts[0] != "reviews" || live.GetResourceVersion() != first.GetResourceVersion() {
		t.Errorf("a dry run was stored: %v", live.Object)
	}
	if _, err := apply(vs("ratings"), "helm", false); !apierrors.IsConflict(err) {
		t.Errorf("another manager's apply of an owned field: %v, want a conflict", err)
	}
	if _, err := apply(vs("ratings"), "helm", true); err != nil {
		t.Errorf("a forced apply: %v", err)
	}
	if err := ri.Delete(ctx, "reviews", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ri.Get(ctx, "reviews", metav1.GetOptions{}); err != nil {
		t.Errorf("a dry-run delete deleted: %v", err)
	}
	if err := ri.Delete(ctx, "nothing", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); !apierrors.IsNotFound(err) {
		t.Errorf("a dry-run delete of nothing: %v, want not found", err)
	}
}
