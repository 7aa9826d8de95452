// Command server serves the admission handler over TLS on loopback without a
// cluster, for the webhook load benchmark: --mode noop answers every review
// without decoding it (the baseline), --mode policies evaluates the embedded
// library (or only the --policies it names), plus --extra-policies generated
// custom policies, against an inventory of generated Istio objects.
package main

import (
	"bytes"
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

	"github.com/kubectl-mesh/kubectl-mesh/internal/meshgen"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
	meshadmission "github.com/kubectl-mesh/kubectl-mesh/webhook/admission"
)

func main() {
	mode := flag.String("mode", "policies", "noop or policies")
	extra := flag.Int("extra-policies", 0, "generated custom policies added to the library")
	only := flag.String("policies", "", "comma-separated IDs: evaluate only these policies of the library")
	namespaces := flag.Int("inventory-namespaces", 10, "namespaces of generated Istio objects in the inventory")
	port := flag.Int("port", 9443, "port on 127.0.0.1")
	certDir := flag.String("cert-dir", "", "directory with tls.crt and tls.key")
	http2 := flag.Bool("enable-http2", false, "offer HTTP/2 as well as HTTP/1.1")
	flag.Parse()
	var ids []string
	if *only != "" {
		ids = strings.Split(*only, ",")
	}
	if err := run(*mode, ids, *extra, *namespaces, *port, *certDir, *http2); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run(mode string, only []string, extra, namespaces, port int, certDir string, http2 bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// Quiet: the benchmark reads only the "ready" line.
	crlog.SetLogger(logr.Discard())

	var handler admission.Handler
	switch mode {
	case "noop":
		handler = meshadmission.NewAllowAll()
	case "policies":
		engine, err := policies.New(ctx, policies.Options{Only: only, Custom: GeneratedPolicies(extra)})
		if err != nil {
			return err
		}
		if err := loadInventory(ctx, engine, namespaces); err != nil {
			return err
		}
		if handler, err = meshadmission.New(meshadmission.Config{Engine: engine}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("--mode: %q, want noop or policies", mode)
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

// loadInventory gives the engine the Services, Deployments and Istio objects
// of generated namespaces, as the webhook's informers would.
func loadInventory(ctx context.Context, engine *policies.Engine, namespaces int) error {
	var buf bytes.Buffer
	if err := meshgen.Write(&buf, namespaces); err != nil {
		return err
	}
	objects, errs := manifest.Read("inventory.yaml", &buf)
	if len(errs) > 0 {
		return errs[0]
	}
	inv := policies.NewInventory()
	for _, obj := range objects {
		inv.Add(obj.Content)
	}
	return engine.SetInventory(ctx, inv)
}

// generatedKinds spread the extra policies over kinds the way a real custom
// set does: one in ten reviews VirtualServices, the rest other kinds.
var generatedKinds = []string{
	"networking.istio.io/VirtualService", "networking.istio.io/DestinationRule", "Service", "apps/Deployment",
	"networking.istio.io/Gateway", "security.istio.io/AuthorizationPolicy", "ConfigMap", "Namespace",
	"security.istio.io/PeerAuthentication", "networking.istio.io/ServiceEntry",
}

// GeneratedPolicies returns n custom policies, each looking for a label
// value on the object it reviews: the per-policy cost of a simple rule.
func GeneratedPolicies(n int) []policies.Source {
	out := make([]policies.Source, n)
	for i := range n {
		out[i] = policies.Source{Name: fmt.Sprintf("bench/p%03d.rego", i), Text: fmt.Sprintf(`# METADATA
# title: Generated policy %[1]d
# description: Flags objects labelled bench=forbidden-%[1]d.
# custom:
#   id: BENCH%03[1]d
#   severity: warning
#   enforcement: warn
#   kinds: [%[2]s]
#   remediation: Remove the label.
package bench.p%03[1]d

import rego.v1

violation contains {"msg": sprintf("label bench=%%s is forbidden", [v])} if {
	v := input.review.object.metadata.labels.bench
	v == "forbidden-%[1]d"
}
`, i, generatedKinds[i%len(generatedKinds)])}
	}
	return out
}
