package clusterinfo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// MeshNone is the SMP mesh type of a cluster without a mesh.
const MeshNone = "NONE"

// defaultRevision is how adapters name an unrevisioned control plane, and
// the tag Istio gives the revision that serves unlabelled namespaces.
const defaultRevision = "default"

// Mesh reads the installed mesh through the adapters' Status. When several
// meshes are installed it reports the first in adapter order (istio before
// linkerd in plugin/mesh/all): a result records one mesh, and a cluster
// running two is a migration whose traffic the caller knows better.
func Mesh(ctx context.Context, adapters []mesh.Mesh, c mesh.Cluster) (*smp.MeshConfig, error) {
	for _, m := range adapters {
		st, err := m.Status(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("reading the status of %s: %w", m.Name(), err)
		}
		if st == nil || !st.Installed {
			continue
		}
		cfg := &smp.MeshConfig{Type: meshType(m.Name()), Build: st.Version, Namespace: st.Namespace}
		if rev, ok := mainRevision(st.Revisions); ok {
			cfg.Revision = rev.Name
			if cfg.Build == "" {
				cfg.Build = rev.Version
			}
		}
		return cfg, nil
	}
	return &smp.MeshConfig{Type: MeshNone}, nil
}

// meshType maps an adapter's name to SMP's ServiceMeshes enum name.
func meshType(name string) string {
	return strings.ToUpper(name)
}

// mainRevision picks the revision a result records when several control
// planes run (an Istio canary upgrade): the default one (unrevisioned, or
// carrying the "default" tag), else the first the adapter lists.
func mainRevision(revs []mesh.Revision) (mesh.Revision, bool) {
	if len(revs) == 0 {
		return mesh.Revision{}, false
	}
	for _, r := range revs {
		if r.Name == defaultRevision || slices.Contains(r.Tags, defaultRevision) {
			return r, true
		}
	}
	return revs[0], true
}
