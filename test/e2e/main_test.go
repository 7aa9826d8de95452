// Package e2e tests kubectl-mesh end to end against a sandbox cluster: a real
// kube-apiserver in its own network namespace (test/sandbox). `make test-e2e`
// builds the sandbox binaries first.
package e2e

import (
	"os"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, harness.Options{Commands: []string{
		"github.com/kubectl-mesh/kubectl-mesh/cmd/mesh-webhook",
		"github.com/kubectl-mesh/kubectl-mesh/test/sandbox/cmd/mesh-sandbox",
	}}))
}
