package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
)

// Environment variables through which the three roles of Main talk.
const (
	roleEnv = "KUBECTL_MESH_SANDBOX_ROLE"
	dirEnv  = "KUBECTL_MESH_SANDBOX_DIR"
	// BinDirEnv overrides where the sandbox binaries are found.
	BinDirEnv = "KUBECTL_MESH_SANDBOX_BIN"

	roleInit   = "init"
	roleWorker = "worker"
)

// Main runs fn against a fresh sandbox cluster and returns the process exit
// code. It must be called early from main or TestMain, before anything with
// side effects: every role of the sandbox runs the same binary with the same
// arguments and reaches this call.
func Main(opts Options, fn func(ctx context.Context, c *Cluster) int) int {
	opts.setDefaults()
	switch role := os.Getenv(roleEnv); role {
	case "":
		return runOutside(opts)
	case roleInit:
		return runInit(opts)
	case roleWorker:
		return runWorker(opts, fn)
	default:
		fmt.Fprintf(opts.Log, "sandbox: unknown %s=%q\n", roleEnv, role)
		return 1
	}
}

func runWorker(opts Options, fn func(ctx context.Context, c *Cluster) int) int {
	// The roles end here: a process that fn starts, another sandbox among
	// them, must not take itself for part of this one.
	dir := os.Getenv(dirEnv)
	_ = os.Unsetenv(roleEnv)
	_ = os.Unsetenv(dirEnv)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var running atomic.Pointer[Cluster]
	var once sync.Once
	stopCluster := func() {
		once.Do(func() {
			if c := running.Load(); c != nil {
				if err := c.Stop(context.Background()); err != nil {
					fmt.Fprintf(opts.Log, "sandbox: %v\n", err)
				}
			}
		})
	}
	defer stopCluster()

	// An interrupt ends the sandbox now, whatever is under way (a go test
	// binary or a command would not stop by itself): cancel a start, stop a
	// running cluster and exit; the kernel ends what is left when PID 1
	// exits after us.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-signals
		cancel()
		fmt.Fprintf(opts.Log, "sandbox: %v: stopping the cluster\n", sig)
		stopCluster()
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()

	c, err := Start(ctx, opts, dir)
	if err != nil {
		fmt.Fprintf(opts.Log, "sandbox: %v\n", err)
		return 1
	}
	running.Store(c)

	// Tools started by fn (kubectl, the plugin) find the cluster the usual
	// way, with a discovery cache of their own: ~/.kube/cache is keyed by
	// host:port, which sandboxes in other network namespaces share.
	for k, v := range map[string]string{"KUBECONFIG": c.Kubeconfig, "KUBECACHEDIR": filepath.Join(c.Dir, "kube-cache")} {
		if err := os.Setenv(k, v); err != nil {
			fmt.Fprintf(opts.Log, "sandbox: %v\n", err)
			return 1
		}
	}
	return fn(ctx, c)
}
