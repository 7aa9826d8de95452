// Package perf tests load tests end to end against a sandbox cluster of its
// own: kubectl mesh perf reaches a Service through a real port-forward (kwok
// forwards the simulated pod's port to a server the test runs on loopback),
// and the in-cluster Job's result is collected from its pod's logs (kwok
// serves a recorded fortio output as the simulated pod's logs).
package perf

import (
	"os"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, harness.Options{}))
}
