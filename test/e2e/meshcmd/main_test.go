// Package meshcmd tests the lifecycle commands through the kubectl-mesh
// binary against a sandbox cluster of its own: installing Istio's CRDs
// would collide with the stand-in CRDs other end-to-end tests create.
package meshcmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/sandbox"
)

var (
	cluster *sandbox.Cluster
	binDir  string
)

func TestMain(m *testing.M) {
	os.Exit(sandbox.Main(sandbox.Options{}, func(ctx context.Context, c *sandbox.Cluster) int {
		cluster = c
		binDir = filepath.Join(c.Dir, "meshcmd-bin")
		if err := cmdrun.Build(binDir, "github.com/kubectl-mesh/kubectl-mesh/cmd/kubectl-mesh"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}))
}

// meshCmd runs kubectl-mesh with the sandbox's kubeconfig.
func meshCmd(t *testing.T, args ...string) cmdrun.Result {
	t.Helper()
	return cmdrun.Run(t, cluster.Kubeconfig, "", filepath.Join(binDir, "kubectl-mesh"), args...)
}

// kubectl runs kubectl with the sandbox's kubeconfig.
func kubectl(t *testing.T, args ...string) cmdrun.Result {
	t.Helper()
	return cmdrun.Run(t, cluster.Kubeconfig, "", "/usr/bin/kubectl", args...)
}

// must fails the test unless r exited 0.
func must(t *testing.T, r cmdrun.Result) cmdrun.Result {
	t.Helper()
	return cmdrun.Must(t, r)
}
