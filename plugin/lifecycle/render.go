package lifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// Render renders rels as `helm template --include-crds --skip-tests` does,
// without a cluster, into one YAML stream in apply order: each release
// starts with a "# Release:" comment, each document with Helm's
// "# Source:" comment. kubeVersion ("v1.37.0"; "" = the version this
// binary targets) is what the charts' .Capabilities see.
func Render(rels []Release, kubeVersion string) (string, error) {
	var b strings.Builder
	for _, r := range rels {
		rel, err := RenderRelease(context.Background(), r, kubeVersion, true)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "# Release: %s in %s, chart %s %s\n", r.Name, r.Namespace, r.Chart.Name(), r.Chart.Metadata.Version)
		b.WriteString(strings.TrimSpace(rel.Manifest))
		b.WriteString("\n")
		for _, h := range rel.Hooks {
			if isTestHook(h) {
				continue
			}
			fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", h.Path, strings.TrimSpace(h.Manifest))
		}
	}
	return b.String(), nil
}

// RenderRelease renders one release as `helm template` does, without a
// cluster; includeCRDs puts the chart's crds/ first in the manifest.
func RenderRelease(ctx context.Context, r Release, kubeVersion string, includeCRDs bool) (*release.Release, error) {
	if err := validateRelease(r); err != nil {
		return nil, err
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	in := action.NewInstall(cfg)
	in.DryRunStrategy = action.DryRunClient
	in.ReleaseName = r.Name
	in.Namespace = r.Namespace
	in.IncludeCRDs = includeCRDs
	in.Labels = r.Labels
	if kubeVersion != "" {
		kv, err := common.ParseKubeVersion(kubeVersion)
		if err != nil {
			return nil, fmt.Errorf("reading the Kubernetes version %q: %w", kubeVersion, err)
		}
		in.KubeVersion = kv
	}
	vals := r.Values
	if vals == nil {
		vals = map[string]any{}
	}
	out, err := in.RunWithContext(ctx, r.Chart, vals)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", r.Name, err)
	}
	return asRelease(out)
}

func isTestHook(h *release.Hook) bool {
	for _, e := range h.Events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}
