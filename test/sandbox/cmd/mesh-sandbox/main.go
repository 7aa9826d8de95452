// Command mesh-sandbox runs a command against a fresh sandbox cluster: a real
// kube-apiserver with simulated nodes, in its own network namespace with only
// loopback. The cluster and every process in it are gone when it returns.
//
//	mesh-sandbox [--nodes N] [--bin DIR] [-- COMMAND [ARGS...]]
//
// The command runs with KUBECONFIG pointing at the sandbox and the bin
// directory first on PATH, so `kubectl mesh` finds the plugin built there.
// Without a command it starts $SHELL.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/kubectl-mesh/kubectl-mesh/test/sandbox"
)

func main() {
	var opts sandbox.Options
	flag.IntVar(&opts.Nodes, "nodes", 2, "Number of simulated nodes.")
	flag.StringVar(&opts.BinDir, "bin", "", "Directory of the sandbox binaries and kubectl-mesh (default: bin/ of this module, or $"+sandbox.BinDirEnv+").")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: mesh-sandbox [flags] [-- COMMAND [ARGS...]]\n\nRuns COMMAND (default $SHELL) against a fresh sandbox cluster.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	os.Exit(sandbox.Main(opts, func(ctx context.Context, c *sandbox.Cluster) int {
		return run(c, flag.Args())
	}))
}

func run(c *sandbox.Cluster, args []string) int {
	if len(args) == 0 {
		shell := os.Getenv("SHELL")
		if shell == "" {
			shell = "/bin/sh"
		}
		args = []string{shell}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+c.Kubeconfig,
		"KUBECACHEDIR="+filepath.Join(c.Dir, "kube-cache"),
		"PATH="+c.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"MESH_SANDBOX_DIR="+c.Dir,
	)
	err := cmd.Run()
	if cmd.ProcessState == nil { // it never ran: not found, not executable
		fmt.Fprintf(os.Stderr, "mesh-sandbox: %v\n", err)
		return 127
	}
	return sandbox.ExitCode(cmd.ProcessState, err)
}
