package policies

import (
	"reflect"
	"strings"
	"testing"
)

func TestUnjudgedPolicies(t *testing.T) {
	workloads := []Kind{{Kind: "Pod"}, {Group: "apps", Kind: "Deployment"}}
	subsets := Metadata{ID: "A1", Kinds: []Kind{{Group: "networking.istio.io", Kind: "DestinationRule"}}, Needs: [][]Kind{workloads}}
	image := Metadata{ID: "A2", Kinds: []Kind{{Kind: "Namespace"}}, Needs: [][]Kind{{{Kind: "ConfigMap"}}, {{Kind: "Pod"}}}}
	plain := Metadata{ID: "A3", Kinds: []Kind{{Kind: "Namespace"}}}
	metas := []Metadata{subsets, image, plain}
	dr, ns := Kind{Group: "networking.istio.io", Kind: "DestinationRule"}, Kind{Kind: "Namespace"}
	tests := []struct {
		name              string
		reviewed, present []Kind
		want              []Unjudged
	}{
		{"nothing they review: nothing to say", []Kind{{Kind: "Service"}}, []Kind{{Kind: "Service"}}, nil},
		{"no workload, no ConfigMap", []Kind{dr, ns}, []Kind{dr, ns}, []Unjudged{
			{"A1", "the input holds no Pod or Deployment"},
			{"A2", "the input holds no ConfigMap, and no Pod"},
		}},
		{"any one workload kind will do", []Kind{dr}, []Kind{dr, {Group: "apps", Kind: "Deployment"}}, nil},
		{"each entry is needed", []Kind{ns}, []Kind{ns, {Kind: "Pod"}}, []Unjudged{{"A2", "the input holds no ConfigMap"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UnjudgedPolicies(metas, tt.reviewed, tt.present); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if got, want := image.NeedsString(), "a ConfigMap and a Pod"; got != want {
		t.Errorf("NeedsString = %q, want %q", got, want)
	}
}

// custom.needs is read from METADATA, and a bad kind in it is refused with
// the field named.
func TestMetadataNeeds(t *testing.T) {
	policy := func(needs string) Source {
		return Source{Name: "p.rego", Text: `# METADATA
# title: t
# description: d
# custom:
#   id: ACME001
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/DestinationRule]
#   needs: ` + needs + `
package acme.p

import rego.v1

violation contains {"msg": "x"} if false
`}
	}
	engine, err := New(t.Context(), Options{Custom: []Source{policy("[Pod|apps/Deployment, ConfigMap]")}, Only: []string{"ACME001"}})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Kind{{{Kind: "Pod"}, {Group: "apps", Kind: "Deployment"}}, {{Kind: "ConfigMap"}}}
	if got := engine.Policies()[0].Needs; !reflect.DeepEqual(got, want) {
		t.Errorf("needs %+v, want %+v", got, want)
	}
	_, err = New(t.Context(), Options{Custom: []Source{policy("[pod]")}})
	if err == nil || !strings.Contains(err.Error(), "custom.needs") {
		t.Errorf("a lower-case kind in needs: %v, want an error naming custom.needs", err)
	}
}
