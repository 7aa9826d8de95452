// Package telemetry tests kubectl mesh metrics and perf run's join with
// what the mesh measured, end to end against a sandbox cluster of its own:
// a real Prometheus (test/promserver) scrapes the stand-in proxies' metrics
// (test/meshmetrics, on loopback) and a stand-in kubelet's cAdvisor series;
// kubectl mesh finds it as a Service and reaches it through a real
// port-forward (kwok forwards the simulated pod's port to it); the load is
// kubectl mesh perf run through the workloads' Services; perf run's mesh is
// Istio installed from its charts, the stand-in injector (test/injector)
// giving the workload's pod its istio-proxy.
package telemetry

import (
	"os"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, harness.Options{}))
}
