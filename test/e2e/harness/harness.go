// Package harness is what every end-to-end test package shares: a sandbox
// cluster of the package's own (test/sandbox), the commands of this tree
// built fresh for it, and the ways a test reaches the cluster: kubectl-mesh
// and kubectl runs (Mesh, MeshStdin, Kubectl, KubectlStdin) and clients
// (RESTConfig, KubeClient, DynamicClient).
//
// A package's TestMain hands its tests to Main:
//
//	func TestMain(m *testing.M) {
//		os.Exit(harness.Main(m, harness.Options{}))
//	}
//
// and its tests run commands against that cluster:
//
//	harness.Must(t, harness.Mesh(t, "install", "istio", "--offline"))
//	out := harness.Must(t, harness.Kubectl(t, "get", "ns")).Stdout
//
// One test binary runs one cluster, so the cluster and the binaries are
// state of this package, set once by Main.
package harness

import (
	"context"

	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/zap/zapcore"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/all"
	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/sandbox"
)

// KubectlPath is the kubectl the tests run: the one installed on the
// machine, as a user's would be.
const KubectlPath = "/usr/bin/kubectl"

// MeshCommand is the package of the kubectl-mesh command, which Main
// always builds.
const MeshCommand = "github.com/kubectl-mesh/kubectl-mesh/cmd/kubectl-mesh"

// Set by Main for the tests of the package.
var (
	cluster *sandbox.Cluster
	binDir  string
)

// Options of Main.
type Options struct {
	// Sandbox configures the cluster.
	Sandbox sandbox.Options
	// Commands are the packages of further commands to build into the
	// binary directory (Bin) beside kubectl-mesh, for example
	// ".../cmd/mesh-webhook".
	Commands []string
	// Setup, when set, runs once the cluster is up and the commands are
	// built, before any test: what every test of the package needs in the
	// cluster (CRDs, for example).
	Setup func(ctx context.Context, c *sandbox.Cluster) error
}

// Main starts the package's sandbox cluster, builds kubectl-mesh and
// opts.Commands from this tree (so that no test runs a stale bin/; with
// the Go build cache it is a link step), runs opts.Setup and then the
// tests, fails the run when a log held a private key (Logs), and returns
// the exit code for os.Exit. Like sandbox.Main it must
// be the first thing TestMain does.
func Main(m *testing.M, opts Options) int {
	// What runs in process (webhook servers, caches, certificate rotation,
	// the stand-in injector) logs through controller-runtime's global
	// logger: at debug level into Logs, which keeps nothing but lines that
	// show a private key.
	crlog.SetLogger(zap.New(zap.WriteTo(&Logs), zap.Level(zapcore.Level(-5))))
	return sandbox.Main(opts.Sandbox, func(ctx context.Context, c *sandbox.Cluster) int {
		cluster = c
		binDir = filepath.Join(c.Dir, "harness-bin")
		if err := cmdrun.Build(binDir, append([]string{MeshCommand}, opts.Commands...)...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if opts.Setup != nil {
			if err := opts.Setup(ctx, c); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		code := m.Run()
		if leaks := Logs.Leaks(); len(leaks) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: a log of the run held a private key (%d lines), e.g.:\n%.300s\n", len(leaks), leaks[0])
			code = 1
		}
		return code
	})
}

// Cluster is the package's sandbox cluster.
func Cluster() *sandbox.Cluster { return cluster }

// Kubeconfig is the path of the sandbox cluster's kubeconfig.
func Kubeconfig() string { return cluster.Kubeconfig }

// Factory is the commands' client factory over the sandbox's kubeconfig:
// tests make their clients with the commands' rate limit.
func Factory() cmdutil.Factory {
	flags := genericclioptions.NewConfigFlags(true)
	*flags.KubeConfig = cluster.Kubeconfig
	return cmdutil.NewFactory(flags, all.Registry())
}

// Bin is the path of a command Main built: "kubectl-mesh", or the last
// element of a package in Options.Commands ("mesh-webhook").
func Bin(name string) string { return filepath.Join(binDir, name) }

// Mesh runs kubectl-mesh args against the sandbox cluster. A non-zero exit
// is a Result (wrap it in Must to require success); a binary that cannot
// start fails t.
func Mesh(t testing.TB, args ...string) cmdrun.Result {
	t.Helper()
	return MeshStdin(t, "", args...)
}

// MeshStdin is Mesh with stdin, for `-f -`.
func MeshStdin(t testing.TB, stdin string, args ...string) cmdrun.Result {
	t.Helper()
	return scanned(cmdrun.Run(t, cluster.Kubeconfig, stdin, Bin("kubectl-mesh"), args...))
}

// scanned hands r's stderr, a log, to Logs.
func scanned(r cmdrun.Result) cmdrun.Result {
	_, _ = Logs.Write([]byte(r.Stderr + "\n"))
	return r
}

// Kubectl runs kubectl args against the sandbox cluster, as Mesh runs
// kubectl-mesh.
func Kubectl(t testing.TB, args ...string) cmdrun.Result {
	t.Helper()
	return KubectlStdin(t, "", args...)
}

// KubectlStdin is Kubectl with stdin, for `apply -f -`.
func KubectlStdin(t testing.TB, stdin string, args ...string) cmdrun.Result {
	t.Helper()
	return scanned(cmdrun.Run(t, cluster.Kubeconfig, stdin, KubectlPath, args...))
}

// Must fails t unless r exited 0, and returns r.
func Must(t testing.TB, r cmdrun.Result) cmdrun.Result {
	t.Helper()
	return cmdrun.Must(t, r)
}

// Command is a command for a test that drives the process itself
// (signals, streaming output, its own environment): name run with the
// sandbox's kubeconfig in its environment (KUBECONFIG). name is a path:
// Bin("kubectl-mesh"), KubectlPath.
func Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig)
	return cmd
}

// Namespace creates namespace name for one test and deletes it (without
// waiting) when the test ends.
func Namespace(t testing.TB, name string) string {
	t.Helper()
	return cmdrun.Namespace(t, cluster.Kubeconfig, name)
}

// RESTConfig is a client configuration for the sandbox cluster.
func RESTConfig(t testing.TB) *rest.Config {
	t.Helper()
	cfg, err := Factory().ToRESTConfig()
	if err != nil {
		t.Fatalf("loading the sandbox's kubeconfig: %v", err)
	}
	return cfg
}

// KubeClient is a typed client of the sandbox cluster.
func KubeClient(t testing.TB) kubernetes.Interface {
	t.Helper()
	client, err := kubernetes.NewForConfig(RESTConfig(t))
	if err != nil {
		t.Fatalf("creating a client: %v", err)
	}
	return client
}

// DynamicClient is a dynamic client of the sandbox cluster, for custom
// resources.
func DynamicClient(t testing.TB) dynamic.Interface {
	t.Helper()
	client, err := dynamic.NewForConfig(RESTConfig(t))
	if err != nil {
		t.Fatalf("creating a dynamic client: %v", err)
	}
	return client
}

// Start runs start in the background until the test ends (a server, a
// controller-runtime manager, a rotator: anything with Start(ctx) error),
// then cancels its context, waits for it to return and reports its error
// as what failed. The channel it returns is closed once start has
// returned, for a test that waits until something serves.
func Start(t testing.TB, what string, start func(ctx context.Context) error) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	var err error
	go func() {
		err = start(ctx)
		close(stopped)
	}()
	t.Cleanup(func() {
		cancel()
		<-stopped
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	})
	return stopped
}
