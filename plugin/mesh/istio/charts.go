package istio

import (
	"context"
	"fmt"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// Component names, as release labels and status call them.
const (
	compBase    = "base"
	compIstiod  = "istiod"
	compGateway = "gateway"
	compCNI     = "cni"
	compZtunnel = "ztunnel"
)

// chartRef is where a component's chart lives: in the embedded tree and,
// under its chart name, in Istio's Helm repository.
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

// chartSource loads each chart once per Plan.
type chartSource struct {
	ctx     context.Context
	i       *Istio
	repo    string
	version string
	cache   map[string]*chart.Chart
}

func (s *chartSource) load(component string) (*chart.Chart, error) {
	if ch, ok := s.cache[component]; ok {
		return ch, nil
	}
	ref := chartOf(component)
	var ch *chart.Chart
	var err error
	if s.repo != "" {
		ch, err = s.i.pull(s.ctx, s.repo, ref.name, s.version)
	} else {
		ch, err = lifecycle.LoadChartFS(s.i.charts, ref.dir)
		if err == nil && s.version != "" && s.version != ch.Metadata.Version {
			err = fmt.Errorf("--version %s: only Istio %s is embedded and available offline; add --repo https://istio-release.storage.googleapis.com/charts to install another version", s.version, ch.Metadata.Version)
		}
	}
	if err != nil {
		return nil, err
	}
	s.cache[component] = ch
	return ch, nil
}

// EmbeddedVersion is the version of the charts built into kubectl-mesh.
func (i *Istio) EmbeddedVersion() (string, error) {
	ch, err := lifecycle.LoadChartFS(i.charts, chartOf(compIstiod).dir)
	if err != nil {
		return "", err
	}
	return ch.Metadata.Version, nil
}
