package webhookinstall

import (
	"context"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	release "helm.sh/helm/v4/pkg/release/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// RenderOptions are the inputs of a client-side render.
type RenderOptions struct {
	Namespace string
	Values    map[string]any
	// IncludeCRDs puts the crds/ files first in the manifest, so that the
	// output applies on its own (kubectl apply -f -, GitOps).
	IncludeCRDs bool
	// KubeVersion is the Kubernetes version templates see, e.g. "v1.37.0";
	// empty means the version this binary's client-go targets.
	KubeVersion string
}

// Render renders the webhook's release as `helm template` does, without a
// cluster.
func Render(ctx context.Context, ch *chart.Chart, o RenderOptions) (*release.Release, error) {
	return lifecycle.RenderRelease(ctx, Release(ch, o.Namespace, o.Values), o.KubeVersion, o.IncludeCRDs)
}
