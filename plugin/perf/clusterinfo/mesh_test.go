package clusterinfo

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// fakeMesh is an adapter whose Status is canned; the rest of the contract
// is never called.
type fakeMesh struct {
	mesh.Mesh
	name   string
	status *mesh.Status
	err    error
	calls  *int
}

func (f fakeMesh) Name() string { return f.name }
func (f fakeMesh) Status(context.Context, mesh.Cluster) (*mesh.Status, error) {
	if f.calls != nil {
		*f.calls++
	}
	return f.status, f.err
}

func TestMesh(t *testing.T) {
	absent := func(name string) fakeMesh {
		return fakeMesh{name: name, status: &mesh.Status{Mesh: name}}
	}
	istio := fakeMesh{name: "istio", status: &mesh.Status{
		Mesh: "istio", Installed: true, Namespace: "istio-system", Version: "1.31.1",
		Revisions: []mesh.Revision{{Name: "default", Version: "1.31.1"}},
	}}
	canary := fakeMesh{name: "istio", status: &mesh.Status{
		Mesh: "istio", Installed: true, Namespace: "istio-system", Version: "1.31.1",
		Revisions: []mesh.Revision{
			{Name: "1-32-0", Version: "1.32.0"},
			{Name: "1-31-1", Version: "1.31.1", Tags: []string{"default", "stable"}},
		},
	}}
	revisionsOnly := fakeMesh{name: "istio", status: &mesh.Status{
		Mesh: "istio", Installed: true, Namespace: "istio-system",
		Revisions: []mesh.Revision{{Name: "1-32-0", Version: "1.32.0"}, {Name: "1-32-1", Version: "1.32.1"}},
	}}
	linkerd := fakeMesh{name: "linkerd", status: &mesh.Status{
		Mesh: "linkerd", Installed: true, Namespace: "linkerd", Version: "edge-25.10.1",
		Revisions: []mesh.Revision{{Name: "default", Version: "edge-25.10.1"}},
	}}
	var linkerdCalls int
	countedLinkerd := linkerd
	countedLinkerd.calls = &linkerdCalls

	tests := []struct {
		name      string
		adapters  []mesh.Mesh
		want      *smp.MeshConfig
		wantErr   string
		wantCalls int
	}{
		{
			name:     "istio",
			adapters: []mesh.Mesh{istio, absent("linkerd")},
			want:     &smp.MeshConfig{Type: "ISTIO", Build: "1.31.1", Namespace: "istio-system", Revision: "default"},
		},
		{
			name:     "linkerd",
			adapters: []mesh.Mesh{absent("istio"), linkerd},
			want:     &smp.MeshConfig{Type: "LINKERD", Build: "edge-25.10.1", Namespace: "linkerd", Revision: "default"},
		},
		{
			name:     "canary upgrade records the default-tagged revision",
			adapters: []mesh.Mesh{canary},
			want:     &smp.MeshConfig{Type: "ISTIO", Build: "1.31.1", Namespace: "istio-system", Revision: "1-31-1"},
		},
		{
			name:     "no default revision records the first and its version",
			adapters: []mesh.Mesh{revisionsOnly},
			want:     &smp.MeshConfig{Type: "ISTIO", Build: "1.32.0", Namespace: "istio-system", Revision: "1-32-0"},
		},
		{
			name:     "none installed",
			adapters: []mesh.Mesh{absent("istio"), absent("linkerd")},
			want:     &smp.MeshConfig{Type: "NONE"},
		},
		{
			name: "no adapters",
			want: &smp.MeshConfig{Type: "NONE"},
		},
		{
			name:      "several installed: the first in adapter order, the rest unread",
			adapters:  []mesh.Mesh{istio, countedLinkerd},
			want:      &smp.MeshConfig{Type: "ISTIO", Build: "1.31.1", Namespace: "istio-system", Revision: "default"},
			wantCalls: 0,
		},
		{
			name:     "status error",
			adapters: []mesh.Mesh{fakeMesh{name: "istio", err: errors.New("listing deployments: forbidden")}, linkerd},
			wantErr:  "reading the status of istio: listing deployments: forbidden",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			linkerdCalls = 0
			got, err := Mesh(context.Background(), tt.adapters, mesh.Cluster{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Mesh() error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Mesh(): %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Mesh() = %+v, want %+v", got, tt.want)
			}
			if linkerdCalls != tt.wantCalls {
				t.Errorf("linkerd Status called %d times, want %d", linkerdCalls, tt.wantCalls)
			}
		})
	}
}
