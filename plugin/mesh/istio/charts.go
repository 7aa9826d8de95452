package istio

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// Component names, as release labels and status call them.
const (
	compBase    = "base"
	compIstiod  = "istiod"
	compGateway = "gateway"
	compCNI     = "cni"
	compZtunnel = "ztunnel"
)

// chartRef is where a component's chart lives: under its chart name in
// Istio's Helm repository and, for --offline, in the embedded tree.
type chartRef struct {
	dir  string // inside manifests.FS
	name string // Chart.yaml name, as on istio-release.storage.googleapis.com/charts
}

// chartOf says where a component's chart is.
func chartOf(component string) chartRef {
	switch component {
	case compBase:
		return chartRef{"charts/base", "base"}
	case compIstiod:
		return chartRef{"charts/istio-control/istio-discovery", "istiod"}
	case compGateway:
		return chartRef{"charts/gateway", "gateway"}
	case compCNI:
		return chartRef{"charts/istio-cni", "cni"}
	default:
		return chartRef{"charts/ztunnel", "ztunnel"}
	}
}

// componentOfChart recognises Istio's charts by name, for releases
// installed with plain helm.
func componentOfChart(name string) (string, bool) {
	switch name {
	case "base", "istiod", "gateway", "cni", "ztunnel":
		if name == "istiod" {
			return compIstiod, true
		}
		return name, true
	}
	return "", false
}

// chartSource loads each chart once per Plan: from the repository (Istio's
// by default) at the version asked (the default release by default), or
// with Offline from the embedded tree.
type chartSource struct {
	ctx     context.Context
	charts  fs.FS
	pull    PullFunc
	offline bool
	repo    string
	version string
	cache   map[string]*chart.Chart
}

func newChartSource(ctx context.Context, i *Istio, opts mesh.InstallOptions) *chartSource {
	s := &chartSource{ctx: ctx, pull: i.pull, charts: i.charts, offline: opts.Offline, repo: opts.Repo, version: opts.Version, cache: map[string]*chart.Chart{}}
	if s.pull == nil {
		s.pull = opts.Pull.Pull
	}
	if s.repo == "" {
		s.repo = ReleaseRepo
	}
	if s.version == "" {
		s.version = DefaultVersion
	}
	return s
}

func (s *chartSource) load(component string) (*chart.Chart, error) {
	if ch, ok := s.cache[component]; ok {
		return ch, nil
	}
	ref := chartOf(component)
	var ch *chart.Chart
	var err error
	if s.offline {
		ch, err = lifecycle.LoadChartFS(s.charts, ref.dir)
	} else {
		ch, err = s.pull(s.ctx, s.repo, ref.name, s.version)
		var unreachable *lifecycle.UnreachableError
		if errors.As(err, &unreachable) {
			err = fmt.Errorf("fetching Istio's charts from %s: %w; check --repo and the network, or add --offline for the development build embedded in kubectl mesh", unreachable.Repo, unreachable.Reason)
		}
	}
	if err != nil {
		return nil, err
	}
	s.cache[component] = ch
	return ch, nil
}

// warning is the one line the charts of a plan get: the offline notice,
// or a release outside the tested range.
func (s *chartSource) warning(ch *chart.Chart) string {
	if s.offline {
		return fmt.Sprintf("--offline: installing the charts embedded in kubectl mesh, a development build of Istio's master branch (chart %s, test images), not for production", ch.Metadata.Version)
	}
	return untestedWarning(ch.Metadata.Version)
}
