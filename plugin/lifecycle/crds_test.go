package lifecycle

import (
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

func crdChart(docs ...string) *chart.Chart {
	ch := &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "demo", Version: "0.1.0"}}
	for i, d := range docs {
		ch.Files = append(ch.Files, &common.File{Name: "crds/" + string(rune('a'+i)) + ".yaml", Data: []byte(d)})
	}
	return ch
}

const (
	crdA = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: as.example.com\n"
	crdB = "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: bs.example.com\n---\n"
)

func TestChartCRDs(t *testing.T) {
	crds, err := ChartCRDs(crdChart(crdA, crdB))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range crds {
		names = append(names, c.GetName())
	}
	if want := []string{"as.example.com", "bs.example.com"}; !slices.Equal(names, want) {
		t.Errorf("CRDs %v, want %v (empty documents skipped)", names, want)
	}
	_, err = ChartCRDs(crdChart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"))
	if err == nil || !strings.Contains(err.Error(), "crds/a.yaml: a ConfigMap in crds/") {
		t.Errorf("a ConfigMap in crds/: %v", err)
	}
}

// A release with ApplyCRDs server-side applies them, forced, as
// kubectl-mesh, and the next release refreshes discovery.
func TestApplyCRDs(t *testing.T) {
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	var applied []string
	dyn.PrependReactor("patch", "customresourcedefinitions", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.PatchAction)
		if !strings.Contains(string(p.GetPatch()), p.GetName()) {
			t.Errorf("patch of %s: %s", p.GetName(), p.GetPatch())
		}
		applied = append(applied, p.GetName())
		return true, nil, nil
	})
	c := &Client{dyn: dyn}
	c.discovered.Store(true)
	if err := c.applyCRDs(t.Context(), crdChart(crdA, crdB)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"as.example.com", "bs.example.com"}; !slices.Equal(applied, want) {
		t.Errorf("applied %v, want %v", applied, want)
	}
	if c.discovered.Load() {
		t.Errorf("discovery is not refreshed after applying CRDs")
	}
}

func TestDeleteCRDs(t *testing.T) {
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	dyn.PrependReactor("delete", "customresourcedefinitions", func(a k8stesting.Action) (bool, runtime.Object, error) {
		name := a.(k8stesting.DeleteAction).GetName()
		if name == "gone.example.com" {
			return true, nil, apierrors.NewNotFound(crdResource.GroupResource(), name)
		}
		return true, nil, nil
	})
	c := &Client{dyn: dyn}
	deleted, err := c.DeleteCRDs(t.Context(), []string{"as.example.com", "gone.example.com"}, 0, nil)
	if err != nil || !slices.Equal(deleted, []string{"as.example.com"}) {
		t.Errorf("deleted %v, %v; want as.example.com only, a missing CRD being no error", deleted, err)
	}
	// With a timeout, it waits until they are gone: the fake's get finds
	// nothing, so at once.
	if _, err := c.DeleteCRDs(t.Context(), []string{"as.example.com"}, time.Minute, nil); err != nil {
		t.Errorf("waiting for a deleted CRD: %v", err)
	}
}

// An install waits for a chart's CRD that is being deleted to go, saying
// so; a live or missing CRD costs one GET and no wait.
func TestWaitTerminatingCRDs(t *testing.T) {
	terminating := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "as.example.com", "deletionTimestamp": "2026-12-06T08:00:00Z", "finalizers": []any{"customresourcecleanup.apiextensions.k8s.io"}},
	}}
	live := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "bs.example.com"},
	}}
	scheme := runtime.NewScheme()
	gvrs := map[schema.GroupVersionResource]string{crdResource: "CustomResourceDefinitionList"}

	t.Run("live and missing", func(t *testing.T) {
		dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, gvrs, live)
		var said []string
		c := &Client{dyn: dyn}
		if err := c.waitTerminatingCRDs(t.Context(), crdChart(crdA, crdB), time.Second, func(s string) { said = append(said, s) }); err != nil {
			t.Fatal(err)
		}
		if len(said) != 0 {
			t.Errorf("said %q for CRDs that are not being deleted", said)
		}
	})
	t.Run("terminating", func(t *testing.T) {
		dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, gvrs, terminating.DeepCopy(), live)
		go func() {
			time.Sleep(200 * time.Millisecond)
			_ = dyn.Tracker().Delete(crdResource, "", "as.example.com")
		}()
		var said []string
		c := &Client{dyn: dyn}
		start := time.Now()
		if err := c.waitTerminatingCRDs(t.Context(), crdChart(crdA, crdB), 10*time.Second, func(s string) { said = append(said, s) }); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 200*time.Millisecond {
			t.Errorf("returned after %s, before the CRD was gone", took)
		}
		if len(said) == 0 || !strings.Contains(said[0], "as.example.com, being deleted") || strings.Contains(said[0], "bs.example.com") {
			t.Errorf("said %q, want the terminating CRD named", said)
		}
	})
	t.Run("never goes", func(t *testing.T) {
		dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, gvrs, terminating.DeepCopy())
		c := &Client{dyn: dyn}
		err := c.waitTerminatingCRDs(t.Context(), crdChart(crdA), 300*time.Millisecond, func(string) {})
		if err == nil || !strings.Contains(err.Error(), "as.example.com") {
			t.Errorf("error %v, want one naming the CRD still there", err)
		}
	})
}
