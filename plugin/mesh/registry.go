package mesh

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Registry is the meshes kubectl mesh manages, in the order status shows
// them; plugin/mesh/all builds it. It is the one list that feeds mesh
// arguments, --mesh values, their completion and their errors.
type Registry []Mesh

// Names are the meshes' names, sorted.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for _, m := range r {
		names = append(names, m.Name())
	}
	slices.Sort(names)
	return names
}

// Get returns the mesh called name, or the error every command words the
// same way: unknown mesh "consul" (allowed: istio, linkerd). Flags prefix
// it with their name.
func (r Registry) Get(name string) (Mesh, error) {
	for _, m := range r {
		if m.Name() == name {
			return m, nil
		}
	}
	return nil, fmt.Errorf("unknown mesh %q (allowed: %s)", name, strings.Join(r.Names(), ", "))
}

// ErrNoMeshInstalled is Detect's error when no control plane runs.
var ErrNoMeshInstalled = errors.New("no mesh is installed in the cluster")

// Detect returns the one mesh whose control plane runs in the cluster.
// Callers add the remedy (a flag, spec.mesh) to its errors.
func (r Registry) Detect(ctx context.Context, c Cluster) (Mesh, error) {
	var installed Registry
	for _, m := range r {
		ok, err := m.Detect(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("detecting the mesh: looking for %s: %w", m.Name(), err)
		}
		if ok {
			installed = append(installed, m)
		}
	}
	switch len(installed) {
	case 1:
		return installed[0], nil
	case 0:
		return nil, fmt.Errorf("%w (looked for %s)", ErrNoMeshInstalled, strings.Join(r.Names(), ", "))
	}
	return nil, fmt.Errorf("several meshes are installed (%s)", strings.Join(installed.Names(), ", "))
}

// Patch returns the changes that take the namespace to the marks, as merge
// patch maps holding only the keys that change (nil for a removal).
func (m Marks) Patch(ns *corev1.Namespace) (labels, annotations map[string]any) {
	return mapPatch(ns.Labels, m.Labels), mapPatch(ns.Annotations, m.Annotations)
}

func mapPatch(current map[string]string, want map[string]*string) map[string]any {
	patch := map[string]any{}
	for k, v := range want {
		cur, ok := current[k]
		switch {
		case v == nil && ok:
			patch[k] = nil
		case v != nil && (!ok || cur != *v):
			patch[k] = *v
		}
	}
	return patch
}
