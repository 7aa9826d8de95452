package mesh

import (
	"context"
	"errors"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// detectable is an adapter that only answers Name and Detect.
type detectable struct {
	Mesh
	name      string
	installed bool
	err       error
}

func (d detectable) Name() string                                  { return d.name }
func (d detectable) Detect(context.Context, Cluster) (bool, error) { return d.installed, d.err }

func TestRegistryGet(t *testing.T) {
	r := Registry{detectable{name: "linkerd"}, detectable{name: "istio"}}
	if got := r.Names(); !reflect.DeepEqual(got, []string{"istio", "linkerd"}) {
		t.Errorf("Names() = %v, want them sorted", got)
	}
	if m, err := r.Get("linkerd"); err != nil || m.Name() != "linkerd" {
		t.Errorf("Get(linkerd) = %v, %v", m, err)
	}
	if _, err := r.Get("consul"); err == nil || err.Error() != `unknown mesh "consul" (allowed: istio, linkerd)` {
		t.Errorf("Get(consul) error = %v", err)
	}
}

func TestRegistryDetect(t *testing.T) {
	tests := []struct {
		name    string
		meshes  Registry
		want    string
		wantErr string
	}{
		{"only linkerd", Registry{detectable{name: "istio"}, detectable{name: "linkerd", installed: true}}, "linkerd", ""},
		{"none", Registry{detectable{name: "istio"}, detectable{name: "linkerd"}}, "", "no mesh is installed in the cluster (looked for istio, linkerd)"},
		{"both", Registry{detectable{name: "istio", installed: true}, detectable{name: "linkerd", installed: true}}, "", "several meshes are installed (istio, linkerd)"},
		{"a mesh cannot be read", Registry{detectable{name: "istio", err: errors.New("forbidden")}}, "", "detecting the mesh: looking for istio: forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.meshes.Detect(context.Background(), Cluster{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Name() != tt.want {
				t.Fatalf("Detect() = %v, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestMarksPatch(t *testing.T) {
	canary := "canary"
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Labels:      map[string]string{"inject": "enabled", "rev": "canary", "team": "a"},
		Annotations: map[string]string{"other": "x"},
	}}
	marks := Marks{
		Labels:      map[string]*string{"inject": nil, "rev": &canary, "absent": nil},
		Annotations: map[string]*string{"proxy": Enabled()},
	}
	labels, annotations := marks.Patch(ns)
	if want := map[string]any{"inject": nil}; !reflect.DeepEqual(labels, want) {
		t.Errorf("labels patch %v, want %v (only the keys that change)", labels, want)
	}
	if want := map[string]any{"proxy": "enabled"}; !reflect.DeepEqual(annotations, want) {
		t.Errorf("annotations patch %v, want %v", annotations, want)
	}
}
