// Command mesh-injector serves the stand-in sidecar injector (test/injector)
// on loopback for a sandbox cluster, for the demo and for trying things by
// hand: it prints the flags, quoted for a shell, that point `kubectl mesh
// install|upgrade istio` and `... linkerd` (the stand-in chart,
// test/charts) at it, after "istio:" and "linkerd:" (Linkerd's CA bundle
// is PEM, over several lines), and serves until it is stopped. It must run
// inside the sandbox (mesh-sandbox), where the apiserver's loopback is its
// own. It is not a mesh: no proxy runs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-mesh/kubectl-mesh/test/injector"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mesh-injector:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), nil).ClientConfig()
	if err != nil {
		return fmt.Errorf("loading the kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	s, err := injector.New(client)
	if err != nil {
		return err
	}
	// Flags for a shell: the CA bundle's PEM holds newlines and spaces.
	quote := func(args []string) string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		return strings.Join(out, " ")
	}
	fmt.Println("istio:  ", quote(s.IstioValues("")))
	fmt.Println("linkerd:", quote(s.LinkerdValues()))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return s.Serve(ctx)
}
