package translate

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
)

// fakeTranslator supports traffic splits only and renders one object per
// service; it records a gap for splits with a zero weight, as a real
// translator does for a setting it cannot express.
type fakeTranslator struct{}

func (fakeTranslator) Name() string { return "fake" }

func (fakeTranslator) Capabilities() map[pattern.Feature]Capability {
	return map[pattern.Feature]Capability{pattern.FeatureSplit: {Support: Partial}, pattern.FeatureRaw: {Support: Full}}
}

func (fakeTranslator) Translate(p *pattern.Pattern, gaps *Gaps) ([]Object, error) {
	var out []Object
	for _, s := range p.Spec.Services {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("ConfigMap")
		u.SetName(s.Name)
		u.SetNamespace(p.Metadata.Namespace)
		out = append(out, Object{Unstructured: u})
		for _, r := range s.Traffic.Routes {
			for _, b := range r.Split {
				if b.Weight == 0 {
					gaps.Add(pattern.FeatureSplit, "spec.services[0].traffic.routes[0].split", "zero weights")
				}
			}
		}
	}
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(p.Metadata.Namespace)
	return append(out, Object{Unstructured: ns, Shared: true}), nil
}

func testPattern() *pattern.Pattern {
	return &pattern.Pattern{
		APIVersion: pattern.APIVersion, Kind: pattern.Kind,
		Metadata: pattern.Metadata{Name: "shop", Namespace: "prod"},
		Spec: pattern.Spec{
			Services: []pattern.Service{{
				Name:     "reviews",
				Versions: []pattern.Version{{Name: "v1", Labels: map[string]string{"version": "v1"}}},
				Traffic: &pattern.Traffic{Routes: []pattern.Route{{
					Timeout: "2s",
					Split:   []pattern.Backend{{Version: "v1", Weight: 100}},
				}}},
			}},
			Raw: []map[string]any{{
				"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
				"metadata": map[string]any{"name": "lua"},
			}},
		},
	}
}

func TestRunRefusesWhatTheMeshCannotExpress(t *testing.T) {
	_, err := Run(fakeTranslator{}, testPattern(), Options{})
	var gapsErr *GapsError
	if !errors.As(err, &gapsErr) {
		t.Fatalf("Run() error = %v, want a GapsError", err)
	}
	want := "spec.services[0].traffic.routes[0].timeout: fake cannot express traffic.timeout"
	if len(gapsErr.Gaps) != 1 || gapsErr.Gaps[0].String() != want {
		t.Errorf("gaps = %v, want [%s]", gapsErr.Gaps, want)
	}
	if !strings.Contains(err.Error(), "--allow-partial") {
		t.Errorf("error %q does not name --allow-partial", err)
	}
}

func TestRunAllowPartialWarnsAndRendersTheRest(t *testing.T) {
	p := testPattern()
	p.Spec.Drift = "lock"
	p.Spec.Services[0].Traffic.Routes[0].Split = append(p.Spec.Services[0].Traffic.Routes[0].Split, pattern.Backend{Version: "v1", Weight: 0})
	res, err := Run(fakeTranslator{}, p, Options{AllowPartial: true})
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, w := range res.Warnings {
		warnings = append(warnings, string(w.Feature))
	}
	if got := strings.Join(warnings, ","); got != "traffic.timeout,traffic.split" {
		t.Errorf("warnings = %s, want the unsupported timeout then the translator's gap", got)
	}
	if len(res.Objects) != 3 {
		t.Fatalf("got %d objects, want the ConfigMap, the shared Namespace and the raw EnvoyFilter", len(res.Objects))
	}
	cm, ns, raw := res.Objects[0], res.Objects[1], res.Objects[2]
	if cm.GetLabels()[pattern.LabelPattern] != "shop" || cm.GetAnnotations()[pattern.AnnotationDrift] != "lock" {
		t.Errorf("owned object labels %v annotations %v, want the pattern label and the lock annotation", cm.GetLabels(), cm.GetAnnotations())
	}
	if len(ns.GetLabels()) != 0 || len(ns.GetAnnotations()) != 0 {
		t.Errorf("shared Namespace got labels %v annotations %v, want none: it is not the pattern's", ns.GetLabels(), ns.GetAnnotations())
	}
	if raw.GetNamespace() != "prod" || raw.GetLabels()[pattern.LabelPattern] != "shop" {
		t.Errorf("raw object namespace %q labels %v, want the pattern's namespace and label", raw.GetNamespace(), raw.GetLabels())
	}
	if _, ok := p.Spec.Raw[0]["metadata"].(map[string]any)["labels"]; ok {
		t.Error("Run changed the pattern's raw object instead of a copy")
	}
}

func TestRunRejectsRawWithoutName(t *testing.T) {
	p := testPattern()
	p.Spec.Services = nil
	p.Spec.Raw = []map[string]any{{"apiVersion": "v1", "kind": "ConfigMap"}}
	_, err := Run(fakeTranslator{}, p, Options{})
	if err == nil || !strings.Contains(err.Error(), "spec.raw[0]") {
		t.Errorf("Run() error = %v, want one naming spec.raw[0]", err)
	}
}

func TestMatrixListsEveryFeature(t *testing.T) {
	m := Matrix([]Translator{fakeTranslator{}})
	for _, f := range pattern.Features {
		if !strings.Contains(m, "| `"+string(f)+"` |") {
			t.Errorf("matrix has no row for %s", f)
		}
	}
	if !strings.Contains(m, "| `traffic.split` | partial |") || !strings.Contains(m, "| `traffic.timeout` | no |") {
		t.Errorf("matrix does not show the fake's support:\n%s", m)
	}
}
