// Package pattern tests patterns end to end (render, apply, diff, prune,
// delete, list, drift) against a sandbox cluster of its own that holds the
// real CRDs of every target: Istio, installed from the embedded charts, Linkerd's
// from the stand-in charts in test/charts, Gateway API's from its Go module,
// SMI's from testdata (smi-sdk-go ships only v1beta1 CRDs). The other e2e packages use stand-in Istio CRDs that
// would collide with these.
package pattern

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
		binDir = filepath.Join(c.Dir, "pattern-bin")
		if err := cmdrun.Build(binDir,
			"github.com/kubectl-mesh/kubectl-mesh/cmd/kubectl-mesh",
			"github.com/kubectl-mesh/kubectl-mesh/cmd/mesh-webhook"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := installCRDs(ctx, c.Kubeconfig, c.Dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}))
}

// meshCmd runs kubectl-mesh with the sandbox's kubeconfig.
func meshCmd(t *testing.T, args ...string) cmdrun.Result {
	t.Helper()
	return meshCmdStdin(t, "", args...)
}

// meshCmdStdin runs kubectl-mesh with stdin.
func meshCmdStdin(t *testing.T, stdin string, args ...string) cmdrun.Result {
	t.Helper()
	return cmdrun.Run(t, cluster.Kubeconfig, stdin, filepath.Join(binDir, "kubectl-mesh"), args...)
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

// namespace creates a namespace for one test and deletes it afterwards.
func namespace(t *testing.T, name string) string {
	t.Helper()
	return cmdrun.Namespace(t, cluster.Kubeconfig, name)
}
