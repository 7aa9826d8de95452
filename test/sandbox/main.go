package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/signal"
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

// Inside reports whether the calling process runs inside a sandbox.
func Inside() bool { return os.Getenv(roleEnv) == roleWorker }

func runWorker(opts Options, fn func(ctx context.Context, c *Cluster) int) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	c, err := Start(ctx, opts, os.Getenv(dirEnv))
	if err != nil {
		fmt.Fprintf(opts.Log, "sandbox: %v\n", err)
		return 1
	}
	defer func() {
		if err := c.Stop(context.Background()); err != nil {
			fmt.Fprintf(opts.Log, "sandbox: %v\n", err)
		}
	}()
	// Tools started by fn (kubectl, the plugin) find the cluster the usual way.
	if err := os.Setenv("KUBECONFIG", c.Kubeconfig); err != nil {
		fmt.Fprintf(opts.Log, "sandbox: %v\n", err)
		return 1
	}
	return fn(ctx, c)
}
