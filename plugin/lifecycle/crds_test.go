package lifecycle

import (
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
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
