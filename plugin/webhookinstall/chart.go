// Package webhookinstall installs, upgrades, uninstalls and reports on the
// mesh-webhook Helm release, from the chart embedded in kubectl-mesh, as a
// one-release plan on plugin/lifecycle (the one Helm client). Releases are
// stored as Helm Secrets, so `helm list` shows them.
package webhookinstall

import (
	"errors"
	"fmt"
	"io/fs"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

const (
	// ReleaseName is the Helm release the plugin manages.
	ReleaseName = "mesh-webhook"
	// DefaultNamespace is where the webhook goes when -n is not given.
	DefaultNamespace = "kubectl-mesh-system"
)

// ErrNoCRDs means the binary was built from a tree without the OpenReports
// CRDs in the chart, which are copied in at build time rather than committed.
var ErrNoCRDs = errors.New("kubectl-mesh was built without the OpenReports CRDs in its webhook chart: run make chart-crds and rebuild")

// LoadChart loads the chart in fsys (rooted at the chart directory) as
// `helm install ./dir` would, .helmignore included, and stamps appVersion
// so that the image tag follows the kubectl-mesh version.
func LoadChart(fsys fs.FS, appVersion string) (*chart.Chart, error) {
	ch, err := lifecycle.LoadChartFS(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("loading the embedded chart: %w", err)
	}
	if appVersion != "" {
		ch.Metadata.AppVersion = appVersion
	}
	return ch, nil
}

// CheckCRDs returns ErrNoCRDs unless the chart carries the OpenReports CRDs
// that the webhook's audit writes reports into.
func CheckCRDs(ch *chart.Chart) error {
	crds, err := lifecycle.ChartCRDs(ch)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, crd := range crds {
		names[crd.GetName()] = true
	}
	for _, want := range []string{"reports.openreports.io", "clusterreports.openreports.io"} {
		if !names[want] {
			return ErrNoCRDs
		}
	}
	return nil
}
