// Package reliability tests the webhook under faults and sustained load
// against a sandbox cluster of its own (issue 20): the soak's correctness
// (test/soak), restarts of the apiserver and etcd, and replica failover.
// Figures are the soak benchmark's job (test/soakbench, `make soak`).
package reliability

import (
	"os"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, harness.Options{
		Commands: []string{harness.WebhookBin},
		Setup:    harness.InstallCRDs,
	}))
}
