package addon

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"strings"

	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// PlanOptions are what install was asked for.
type PlanOptions struct {
	// Mesh the add-on is configured for (a name the add-on supports).
	Mesh string
	// Namespace of the release; "" means the add-on's for the mesh (for
	// Istio's, beside its control plane: MeshNamespace).
	Namespace string
	// MeshNamespace is the control plane's; "" means the mesh's default.
	MeshNamespace string
	// PrometheusNamespace is where the prometheus add-on is, for the
	// add-ons that read it; "" means its default for the mesh.
	PrometheusNamespace string
	// MeshVersion is the installed control plane's release ("edge-26.1.1"),
	// the version of an add-on that FollowsMesh when Version is empty.
	MeshVersion string
	// Repo and Version override the catalog's; Pull says how to reach Repo.
	Repo, Version string
	Pull          lifecycle.PullOptions
	// Values are the user's (-f, then --set), merged over the project's.
	Values map[string]any
	// PullChart replaces Pull.Pull in tests.
	PullChart func(ctx context.Context, repo, name, version string) (*chart.Chart, error)
}

// Values are the project's values for the add-on on the mesh, before the
// user's.
func (a Addon) Values(o PlanOptions) map[string]any {
	prometheus, _ := Get("prometheus")
	promNS := cmp.Or(o.PrometheusNamespace, prometheus.namespace(PlanOptions{Mesh: o.Mesh, MeshNamespace: o.MeshNamespace}))
	return a.values(target{
		mesh:          o.Mesh,
		meshNamespace: cmp.Or(o.MeshNamespace, meshNamespace(o.Mesh)),
		prometheusURL: prometheus.URL(promNS),
	})
}

// namespace is -n, else the add-on's for the mesh: the control plane's
// own where the mesh's docs put the add-on beside it (Istio's in
// istio-system), wherever that control plane is.
func (a Addon) namespace(o PlanOptions) string {
	def := a.Namespace(o.Mesh)
	if def == meshNamespace(o.Mesh) {
		def = cmp.Or(o.MeshNamespace, def)
	}
	return cmp.Or(o.Namespace, def)
}

// Plan pulls the chart and returns the one release that installs or
// upgrades the add-on: the project's values for the mesh with the user's
// over them, labelled so that status finds it.
func (a Addon) Plan(ctx context.Context, o PlanOptions) ([]lifecycle.Release, error) {
	if !a.Supports(o.Mesh) {
		return nil, fmt.Errorf("%s is not an add-on of %s (it is of %s)", a.Name, o.Mesh, strings.Join(a.Meshes, ", "))
	}
	pull := o.PullChart
	if pull == nil {
		pull = o.Pull.Pull
	}
	ch, err := pull(ctx, cmp.Or(o.Repo, a.Repo), a.Chart, a.version(o))
	if err != nil {
		return nil, fmt.Errorf("pulling chart %s: %w", a.Chart, err)
	}
	values := a.Values(o)
	if len(o.Values) > 0 {
		// Helm's own merge of -f and --set over a chart's values: the
		// user's win, maps merge.
		values = chartutil.MergeTables(maps.Clone(o.Values), values)
	}
	return []lifecycle.Release{{
		Name:      a.Name,
		Namespace: a.namespace(o),
		Component: a.Name,
		Chart:     ch,
		Values:    values,
		Labels:    map[string]string{LabelAddon: a.Name, LabelMesh: o.Mesh},
	}}, nil
}

// version is --version, else the control plane's release for an add-on
// that follows it (Linkerd's edge-YY.M.P is chart version 20YY.M.P), else
// the pinned one.
func (a Addon) version(o PlanOptions) string {
	if o.Version != "" {
		return o.Version
	}
	if rest, ok := strings.CutPrefix(o.MeshVersion, "edge-"); ok && a.FollowsMesh {
		return "20" + rest
	}
	return a.Version
}
