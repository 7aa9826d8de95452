// Command server serves the admission handler over TLS on loopback without a
// cluster, for the webhook benchmarks: --mode noop answers every review
// without decoding it (the baseline), --mode policies evaluates the embedded
// library (or only the --policies it names), --mode floor as many trivial
// policies as the library has for a VirtualService
// (webhookbench.FloorPolicies), each against an inventory of generated
// Istio objects.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/test/webhookbench"
	meshadmission "github.com/kubectl-mesh/kubectl-mesh/webhook/admission"
)

func main() {
	mode := flag.String("mode", "policies", "noop, policies or floor")
	only := flag.String("policies", "", "comma-separated IDs: evaluate only these policies of the library")
	namespaces := flag.Int("inventory-namespaces", webhookbench.InventoryNamespaces, "namespaces of generated Istio objects in the inventory")
	port := flag.Int("port", 9443, "port on 127.0.0.1")
	certDir := flag.String("cert-dir", "", "directory with tls.crt and tls.key")
	http2 := flag.Bool("enable-http2", false, "offer HTTP/2 as well as HTTP/1.1")
	flag.Parse()
	var ids []string
	if *only != "" {
		ids = strings.Split(*only, ",")
	}
	if err := run(*mode, ids, *namespaces, *port, *certDir, *http2); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run(mode string, only []string, namespaces, port int, certDir string, http2 bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// Quiet: the benchmark reads only the "ready" line.
	crlog.SetLogger(logr.Discard())

	var handler admission.Handler
	var opts policies.Options
	switch mode {
	case "noop":
		handler = meshadmission.NewAllowAll()
	case "policies":
		opts = policies.Options{Only: only}
	case "floor":
		n, err := webhookbench.LibraryPoliciesFor(ctx, "networking.istio.io", "VirtualService")
		if err != nil {
			return err
		}
		opts = policies.Options{Library: []policies.Source{}, Custom: webhookbench.FloorPolicies(n)}
	default:
		return fmt.Errorf("--mode: %q, want noop, policies or floor", mode)
	}
	if handler == nil {
		engine, err := webhookbench.NewEngine(ctx, opts, namespaces)
		if err != nil {
			return err
		}
		if handler, err = meshadmission.New(meshadmission.Config{Engine: engine}); err != nil {
			return err
		}
	}

	server := crwebhook.NewServer(crwebhook.Options{
		Host: "127.0.0.1", Port: port, CertDir: certDir,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			if !http2 {
				c.NextProtos = []string{"http/1.1"}
			}
		}},
	})
	server.Register("/validate", &admission.Webhook{Handler: handler})
	errc := make(chan error, 1)
	go func() { errc <- server.Start(ctx) }()
	for server.StartedChecker()(&http.Request{}) != nil {
		select {
		case err := <-errc:
			return err
		case <-time.After(10 * time.Millisecond):
		}
	}
	fmt.Println("ready")
	return <-errc
}
