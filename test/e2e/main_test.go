// Package e2e tests kubectl-mesh end to end against a sandbox cluster: a real
// kube-apiserver in its own network namespace (test/sandbox). `make test-e2e`
// builds the sandbox binaries first.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/sandbox"
)

// Set by TestMain for the tests of this package.
var (
	cluster *sandbox.Cluster
	// binDir holds kubectl-mesh, mesh-webhook and mesh-sandbox built from this tree.
	binDir string
)

func TestMain(m *testing.M) {
	// Webhook servers and caches started in process log through
	// controller-runtime's global logger; the tests read their own output.
	crlog.SetLogger(logr.Discard())
	os.Exit(sandbox.Main(sandbox.Options{}, func(ctx context.Context, c *sandbox.Cluster) int {
		cluster = c
		binDir = filepath.Join(c.Dir, "e2e-bin")
		if err := cmdrun.Build(binDir,
			"github.com/kubectl-mesh/kubectl-mesh/cmd/kubectl-mesh",
			"github.com/kubectl-mesh/kubectl-mesh/cmd/mesh-webhook",
			"github.com/kubectl-mesh/kubectl-mesh/test/sandbox/cmd/mesh-sandbox"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}))
}
