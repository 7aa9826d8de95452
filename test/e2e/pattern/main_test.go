// Package pattern tests patterns end to end (render, apply, diff, prune,
// delete, list, drift) against a sandbox cluster of its own that holds the
// real CRDs of every target: Istio, installed from the embedded charts, Linkerd's
// from the stand-in charts in test/charts, Gateway API's from its Go module,
// SMI's from testdata (smi-sdk-go ships only v1beta1 CRDs). The other e2e packages use stand-in Istio CRDs that
// would collide with these.
package pattern

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
		binDir = filepath.Join(c.Dir, "pattern-bin")
		out, err := exec.Command("go", "build", "-o", binDir+"/",
			"github.com/kubectl-mesh/kubectl-mesh/cmd/kubectl-mesh",
			"github.com/kubectl-mesh/kubectl-mesh/cmd/mesh-webhook").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "building the binaries under test: %v\n%s", err, out)
			return 1
		}
		if err := installCRDs(ctx, c.Kubeconfig, c.Dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
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
	return run(t, "", filepath.Join(binDir, "kubectl-mesh"), args...)
}

// meshCmdStdin runs kubectl-mesh with stdin.
func meshCmdStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return run(t, stdin, filepath.Join(binDir, "kubectl-mesh"), args...)
}

// kubectl runs kubectl with the sandbox's kubeconfig.
func kubectl(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, "", "/usr/bin/kubectl", args...)
}

func run(t *testing.T, stdin, bin string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig)
	cmd.Stdin = strings.NewReader(stdin)
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

// namespace creates a namespace for one test and deletes it afterwards.
func namespace(t *testing.T, name string) string {
	t.Helper()
	must(t, kubectl(t, "create", "namespace", name))
	t.Cleanup(func() {
		cmd := exec.Command("/usr/bin/kubectl", "delete", "namespace", name, "--wait=false")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig)
		_ = cmd.Run()
	})
	return name
}
