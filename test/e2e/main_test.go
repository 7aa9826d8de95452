// Package e2e tests kubectl-mesh end to end against a sandbox cluster: a real
// kube-apiserver in its own network namespace (test/sandbox). `make test-e2e`
// builds the sandbox binaries first.
package e2e

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

func TestMain(m *testing.M) {
	// Webhook servers and caches started in process log through
	// controller-runtime's global logger; the tests read their own output.
	crlog.SetLogger(logr.Discard())
	os.Exit(harness.Main(m, harness.Options{Commands: []string{
		"github.com/kubectl-mesh/kubectl-mesh/cmd/mesh-webhook",
		"github.com/kubectl-mesh/kubectl-mesh/test/sandbox/cmd/mesh-sandbox",
	}}))
}
