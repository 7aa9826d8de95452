// Command mesh-webhook is the kubectl-mesh validating admission webhook.
package main

import (
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kubectl-mesh/kubectl-mesh/internal/buildinfo"
	"github.com/kubectl-mesh/kubectl-mesh/webhook"
)

const usage = `mesh-webhook: the kubectl-mesh validating admission webhook.

It serves AdmissionReviews over HTTPS at %s, /healthz and /readyz on the
health probe address, and Prometheus metrics at /metrics. The cluster is
reached through --kubeconfig, $KUBECONFIG or the in-cluster service account.

Usage:
  mesh-webhook [flags]

Flags:
`

func main() {
	opts := webhook.DefaultOptions()
	opts.BindFlags(flag.CommandLine)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	showVersion := flag.Bool("version", false, "Print the version and exit.")
	// controller-runtime registers --kubeconfig on flag.CommandLine.
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), usage, webhook.ValidatePath)
		flag.PrintDefaults()
	}
	flag.Parse()

	if *showVersion {
		fmt.Println(buildinfo.Get().Version)
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("mesh-webhook")

	if err := run(opts); err != nil {
		log.Error(err, "exiting")
		os.Exit(1)
	}
}

func run(opts webhook.Options) error {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading the kubeconfig: %w", err)
	}
	ctx := ctrl.SetupSignalHandler()
	wh, err := webhook.New(ctx, cfg, opts)
	if err != nil {
		return err
	}
	ctrl.Log.WithName("mesh-webhook").Info("starting", "version", buildinfo.Get().Version, "port", opts.Port,
		"certDir", opts.CertDir, "certMode", opts.CertMode, "policies", len(wh.Engine.Policies()))
	return wh.Start(ctx)
}
