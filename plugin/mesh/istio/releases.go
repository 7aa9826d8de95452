package istio

import (
	"fmt"
	"slices"
	"strings"

	ri "helm.sh/helm/v4/pkg/release"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/client-go/kubernetes"
)

// installed is one Istio Helm release found in the cluster: ours (release
// labels) or installed with plain helm (an Istio chart by name).
type installed struct {
	Name, Namespace, Component, Revision string
	Chart, ChartVersion, AppVersion      string
	Status                               string
	Config                               map[string]any
}

// istioReleases reads the latest revision of every Istio release in every
// namespace straight from Helm's storage (Secrets), so that releases made
// by plain helm count too.
func istioReleases(kube kubernetes.Interface) ([]installed, error) {
	d := driver.NewSecrets(kube.CoreV1().Secrets(""))
	all, err := d.List(func(ri.Releaser) bool { return true })
	if err != nil {
		return nil, fmt.Errorf("listing Helm releases: %w", err)
	}
	latest := map[string]*release.Release{}
	for _, r := range all {
		rel, ok := asRelease(r)
		if !ok || rel.Chart == nil || rel.Chart.Metadata == nil {
			continue
		}
		key := rel.Namespace + "/" + rel.Name
		if cur, ok := latest[key]; !ok || rel.Version > cur.Version {
			latest[key] = rel
		}
	}
	var out []installed
	for _, key := range sortedKeys(latest) {
		rel := latest[key]
		comp, ok := istioComponent(rel)
		if !ok {
			continue
		}
		rev := rel.Labels[LabelRevision]
		if rev == "" || comp == compIstiod || comp == compGateway || comp == compZtunnel {
			if r, _ := rel.Config["revision"].(string); r != "" {
				rev = r
			}
		}
		status := ""
		if rel.Info != nil {
			status = string(rel.Info.Status)
		}
		out = append(out, installed{
			Name: rel.Name, Namespace: rel.Namespace, Component: comp, Revision: revisionOrDefault(rev),
			Chart: rel.Chart.Metadata.Name, ChartVersion: rel.Chart.Metadata.Version, AppVersion: rel.Chart.Metadata.AppVersion,
			Status: status, Config: rel.Config,
		})
	}
	return out, nil
}

// istioComponent says which Istio component a release is, if any.
func istioComponent(rel *release.Release) (string, bool) {
	if rel.Labels[LabelMesh] == MeshName {
		if c := rel.Labels[LabelComponent]; c != "" {
			return c, true
		}
	}
	comp, ok := componentOfChart(rel.Chart.Metadata.Name)
	if !ok {
		return "", false
	}
	// Chart names such as "base" and "gateway" are common: only Istio's.
	if slices.Contains(rel.Chart.Metadata.Keywords, "istio") ||
		slices.ContainsFunc(rel.Chart.Metadata.Sources, func(s string) bool { return strings.Contains(s, "istio/istio") }) {
		return comp, true
	}
	return "", false
}

func asRelease(r any) (*release.Release, bool) {
	switch rel := r.(type) {
	case *release.Release:
		return rel, true
	case release.Release:
		return &rel, true
	}
	return nil, false
}
