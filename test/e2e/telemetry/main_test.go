// Package telemetry tests kubectl mesh metrics end to end against a sandbox
// cluster of its own: a real Prometheus (test/promserver) scrapes the
// stand-in proxies' metrics (test/meshmetrics, on loopback), kubectl mesh
// finds it as the Service istio-system/prometheus and reaches it through a
// real port-forward (kwok forwards the simulated pod's port to it), and the
// load is kubectl mesh perf run through the workloads' Services.
package telemetry

import (
	"os"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, harness.Options{}))
}
