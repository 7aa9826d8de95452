// Package meshcmd tests the lifecycle commands through the kubectl-mesh
// binary against a sandbox cluster of its own: installing Istio's CRDs
// would collide with the stand-in CRDs other end-to-end tests create.
package meshcmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
		out, err := exec.Command("go", "build", "-o", binDir+"/", "github.com/kubectl-mesh/kubectl-mesh/cmd/kubectl-mesh").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "building kubectl-mesh: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}))
}

// result is one run of a command.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// meshCmd runs kubectl-mesh with the sandbox's kubeconfig.
func meshCmd(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, filepath.Join(binDir, "kubectl-mesh"), args...)
}

// kubectl runs kubectl with the sandbox's kubeconfig.
func kubectl(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, "/usr/bin/kubectl", args...)
}

func run(t *testing.T, bin string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s %s: %v", bin, strings.Join(args, " "), err)
	}
	return r
}

// must fails the test unless r exited 0.
func must(t *testing.T, r result) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("command failed: %v", r)
	}
	return r
}
