// Package perf tests load tests end to end against a sandbox cluster of its
// own: kubectl mesh perf reaches a Service through a real port-forward (kwok
// forwards the simulated pod's port to a server the test runs on loopback),
// and the in-cluster Job's result is collected from its pod's logs (kwok
// serves a recorded fortio output as the simulated pod's logs).
package perf

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

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
		binDir = filepath.Join(c.Dir, "perf-bin")
		if err := cmdrun.Build(binDir, "github.com/kubectl-mesh/kubectl-mesh/cmd/kubectl-mesh"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}))
}

// sandboxClient is a client of the sandbox cluster and its config.
func sandboxClient(t *testing.T) (*rest.Config, kubernetes.Interface) {
	t.Helper()
	cfg, err := cluster.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, client
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

// kubectlStdin runs kubectl with stdin, for `apply -f -`.
func kubectlStdin(t *testing.T, stdin string, args ...string) cmdrun.Result {
	t.Helper()
	return cmdrun.Run(t, cluster.Kubeconfig, stdin, "/usr/bin/kubectl", args...)
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
