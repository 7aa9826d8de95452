// Command mesh-injector serves the stand-in sidecar injector (test/injector)
// on loopback for a sandbox cluster, for the demo and for trying things by
// hand: it prints the flags, quoted for a shell, that point `kubectl mesh
// install|upgrade istio` and `... linkerd` (the stand-in chart,
// test/charts) at it, after "istio:" and "linkerd:" (Linkerd's CA bundle
// is PEM, over several lines), or with -values-dir DIR writes them as
// values files (DIR/istio.yaml, DIR/linkerd.yaml) and prints their paths,
// and serves until it is stopped. It must run
// inside the sandbox (mesh-sandbox), where the apiserver's loopback is its
// own. It is not a mesh: no proxy runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/test/injector"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mesh-injector:", err)
		os.Exit(1)
	}
}

func run() error {
	valuesDir := flag.String("values-dir", "", "write the values as files in this directory instead of printing flags")
	flag.Parse()
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
	if *valuesDir == "" {
		fmt.Println("istio:  ", quote(s.IstioValues("")))
		fmt.Println("linkerd:", quote(s.LinkerdValues()))
	} else {
		for mesh, flags := range map[string][]string{"istio": s.IstioValues(""), "linkerd": s.LinkerdValues()} {
			path := filepath.Join(*valuesDir, mesh+".yaml")
			if err := writeValues(path, flags); err != nil {
				return err
			}
			fmt.Printf("%s: %s\n", mesh, path)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return s.Serve(ctx)
}

// writeValues writes --set/--set-string flags (dotted keys) as a values
// file.
func writeValues(path string, flags []string) error {
	values := map[string]any{}
	for i := 1; i < len(flags); i += 2 {
		key, value, _ := strings.Cut(flags[i], "=")
		parts := strings.Split(key, ".")
		m := values
		for _, p := range parts[:len(parts)-1] {
			if _, ok := m[p].(map[string]any); !ok {
				m[p] = map[string]any{}
			}
			m = m[p].(map[string]any)
		}
		var v any = value
		if flags[i-1] == "--set" && (value == "true" || value == "false") {
			v = value == "true"
		}
		m[parts[len(parts)-1]] = v
	}
	data, err := yaml.Marshal(values)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}
