// Package istio is the Istio adapter of kubectl mesh: the Helm releases of a
// profile (from Istio's Helm repository at a tested release, or offline from
// the development charts embedded from istio.io/istio/manifests), the
// installed control planes and their proxies, revision tags as `istioctl
// tag` manages them, sidecar injection labels, and what an uninstall must
// remove or must not break.
package istio

import (
	"context"
	"io/fs"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"istio.io/istio/manifests"
)

const (
	// MeshName is how users name the mesh.
	MeshName = "istio"
	// DefaultNamespace is where the control plane goes when -n is not given.
	DefaultNamespace = "istio-system"
	// DefaultRevision is the revision of an unrevisioned control plane.
	DefaultRevision = "default"

	// Release labels every adapter and command agree on.
	LabelMesh      = "kubectl-mesh.io/mesh"
	LabelComponent = "kubectl-mesh.io/component"
	LabelRevision  = "kubectl-mesh.io/revision"

	// InjectLabel=enabled enrols a namespace with the default revision
	// (or the one the "default" tag points at).
	InjectLabel = "istio-injection"
	// RevLabel=REVISION enrols a namespace with a revision or tag.
	RevLabel = "istio.io/rev"
	// IstiodSelector finds istiod Deployments, whoever installed them.
	IstiodSelector = "app=istiod"

	labelTag       = "istio.io/tag"
	annSidecar     = "sidecar.istio.io/status"
	proxyContainer = "istio-proxy"
)

// PullFunc fetches a chart from a Helm repository (lifecycle.PullOptions.Pull).
type PullFunc func(ctx context.Context, repoURL, name, version string) (*chart.Chart, error)

// Config configures the adapter; the zero value is what kubectl mesh uses.
type Config struct {
	// Charts holds charts/ as istio.io/istio/manifests lays it out; nil
	// means the embedded manifests.FS.
	Charts fs.FS
	// PullChart fetches charts from a repository; nil means
	// InstallOptions.Pull.
	PullChart PullFunc
}

// Istio implements mesh.Mesh.
type Istio struct {
	charts fs.FS
	pull   PullFunc
}

// New returns the Istio adapter.
func New(cfg Config) *Istio {
	charts := cfg.Charts
	if charts == nil {
		charts = manifests.FS
	}
	return &Istio{charts: charts, pull: cfg.PullChart}
}

// Name is how users name the mesh.
func (i *Istio) Name() string { return MeshName }

// revisionOrDefault maps the empty revision to "default", as Istio labels do.
func revisionOrDefault(rev string) string {
	if rev == "" {
		return DefaultRevision
	}
	return rev
}
