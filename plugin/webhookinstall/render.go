package webhookinstall

import (
	"context"
	"fmt"
	"log/slog"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	release "helm.sh/helm/v4/pkg/release/v1"
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

// Render renders the chart as `helm template` does, without a cluster.
func Render(ctx context.Context, ch *chart.Chart, o RenderOptions) (*release.Release, error) {
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	install := action.NewInstall(cfg)
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = ReleaseName
	install.Namespace = o.Namespace
	install.IncludeCRDs = o.IncludeCRDs
	if o.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(o.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("reading the Kubernetes version %q: %w", o.KubeVersion, err)
		}
		install.KubeVersion = kv
	}
	rel, err := install.RunWithContext(ctx, ch, o.Values)
	if err != nil {
		return nil, fmt.Errorf("rendering the chart: %w", err)
	}
	return asRelease(rel)
}
