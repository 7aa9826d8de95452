// Command gkwebhook serves Gatekeeper's constraint framework behind the
// HTTPS AdmissionReview handler shape of test/webhookbench/server (a
// controller-runtime webhook server on loopback), for the comparison of
// mesh-webhook with Gatekeeper in `make bench`. It does what Gatekeeper's
// validating webhook does per request (pkg/webhook/policy.go): an
// AugmentedReview of the AdmissionRequest with the request's Namespace
// object, reviewed by the constraint framework at the webhook's enforcement
// point; deny results refuse the request, warn results come back as
// warnings. Templates and constraints come from -f files, the synced
// inventory (data.inventory, what Gatekeeper's sync gives referential
// templates) from --inventory, both read with gator's reader.
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
	"github.com/open-policy-agent/frameworks/constraint/pkg/apis"
	constraintclient "github.com/open-policy-agent/frameworks/constraint/pkg/client"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/drivers/rego"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/reviews"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/gator/reader"
	mutationtypes "github.com/open-policy-agent/gatekeeper/v3/pkg/mutation/types"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/target"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/util"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	var policyFiles files
	flag.Var(&policyFiles, "f", "a file or directory of ConstraintTemplates and Constraints (repeatable)")
	inventory := flag.String("inventory", "", "a file of the objects to sync into data.inventory")
	port := flag.Int("port", 9443, "port on 127.0.0.1")
	certDir := flag.String("cert-dir", "", "directory with tls.crt and tls.key")
	http2 := flag.Bool("enable-http2", false, "offer HTTP/2 as well as HTTP/1.1")
	flag.Parse()
	if err := run(policyFiles, *inventory, *port, *certDir, *http2); err != nil {
		fmt.Fprintln(os.Stderr, "gkwebhook:", err)
		os.Exit(1)
	}
}

func run(policyFiles []string, inventory string, port int, certDir string, http2 bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	crlog.SetLogger(logr.Discard())

	h, err := newHandler(ctx, policyFiles, inventory)
	if err != nil {
		return err
	}
	server := crwebhook.NewServer(crwebhook.Options{
		Host: "127.0.0.1", Port: port, CertDir: certDir,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			if !http2 {
				c.NextProtos = []string{"http/1.1"}
			}
		}},
	})
	server.Register("/validate", &admission.Webhook{Handler: h})
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

type handler struct {
	client *constraintclient.Client
	// namespaces stands for the cached client Gatekeeper's webhook reads
	// the request's Namespace from.
	namespaces map[string]*corev1.Namespace
}

// newHandler sets the constraint framework up as Gatekeeper's main.go does
// with referential data enabled (the Rego driver, data.inventory as an
// extern, the webhook's enforcement point), adds the templates, the
// constraints, then the inventory.
func newHandler(ctx context.Context, policyFiles []string, inventory string) (*handler, error) {
	scheme := runtime.NewScheme()
	if err := apis.AddToScheme(scheme); err != nil {
		return nil, err
	}
	driver, err := rego.New(rego.Externs("inventory"))
	if err != nil {
		return nil, fmt.Errorf("creating the Rego driver: %w", err)
	}
	client, err := constraintclient.NewClient(constraintclient.Targets(&target.K8sValidationTarget{}),
		constraintclient.Driver(driver), constraintclient.EnforcementPoints(util.WebhookEnforcementPoint))
	if err != nil {
		return nil, fmt.Errorf("creating the constraint client: %w", err)
	}
	objs, err := reader.ReadSources(policyFiles, nil, "")
	if err != nil {
		return nil, fmt.Errorf("reading the policies: %w", err)
	}
	for _, obj := range objs {
		if !reader.IsTemplate(obj) {
			continue
		}
		templ, err := reader.ToTemplate(scheme, obj)
		if err != nil {
			return nil, fmt.Errorf("converting template %q: %w", obj.GetName(), err)
		}
		if _, err := client.AddTemplate(ctx, templ); err != nil {
			return nil, fmt.Errorf("adding template %q: %w", templ.GetName(), err)
		}
	}
	for _, obj := range objs {
		if reader.IsConstraint(obj) {
			if _, err := client.AddConstraint(ctx, obj); err != nil {
				return nil, fmt.Errorf("adding constraint %q: %w", obj.GetName(), err)
			}
		}
	}
	h := &handler{client: client, namespaces: map[string]*corev1.Namespace{}}
	if inventory == "" {
		return h, nil
	}
	data, err := reader.ReadSources([]string{inventory}, nil, "")
	if err != nil {
		return nil, fmt.Errorf("reading the inventory: %w", err)
	}
	for _, obj := range data {
		if _, err := client.AddData(ctx, obj); err != nil {
			return nil, fmt.Errorf("adding %s %s/%s to the inventory: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
		}
		if obj.GetKind() == "Namespace" && obj.GetAPIVersion() == "v1" {
			ns := &corev1.Namespace{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, ns); err != nil {
				return nil, err
			}
			h.namespaces[ns.Name] = ns
		}
	}
	return h, nil
}

func (h *handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	review := &target.AugmentedReview{
		AdmissionRequest: &req.AdmissionRequest,
		Source:           mutationtypes.SourceTypeOriginal,
		IsAdmission:      true,
	}
	var ns *corev1.Namespace
	if req.Namespace != "" {
		ns = h.namespaces[req.Namespace]
		review.Namespace = ns
	}
	opts := []reviews.ReviewOpt{reviews.EnforcementPoint(util.WebhookEnforcementPoint)}
	if opt := util.NamespaceReviewOpt(ns, logr.Discard()); opt != nil {
		opts = append(opts, opt)
	}
	resp, err := h.client.Review(ctx, review, opts...)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	var denied, warnings []string
	for _, r := range resp.Results() {
		msg := fmt.Sprintf("[%s] %s", r.Constraint.GetName(), r.Msg)
		switch r.EnforcementAction {
		case "deny":
			denied = append(denied, msg)
		case "warn":
			warnings = append(warnings, msg)
		}
	}
	if len(denied) > 0 {
		return admission.Denied(strings.Join(denied, "\n")).WithWarnings(warnings...)
	}
	return admission.Allowed("").WithWarnings(warnings...)
}
