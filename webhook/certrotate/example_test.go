package certrotate_test

import (
	"context"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/kubectl-mesh/kubectl-mesh/webhook/certrotate"
)

// How the webhook binary wires the rotator in self-managed mode: files
// before the manager starts (its webhook server needs them), then the
// rotator as a runnable on every replica, and its readiness check.
func Example() {
	run := func(ctx context.Context) error {
		cfg, err := ctrl.GetConfig()
		if err != nil {
			return err
		}
		// Uncached: the manager's client is not usable before Start, and a
		// Secret cache would need cluster-wide rights on Secrets.
		c, err := client.NewWithWatch(cfg, client.Options{})
		if err != nil {
			return err
		}
		const certDir = "/tmp/k8s-webhook-server/serving-certs"
		rot, err := certrotate.New(certrotate.Config{
			Client:            c,
			Namespace:         "mesh-system", // from the Pod's namespace
			ServiceName:       "mesh-webhook",
			WebhookConfigName: "mesh-webhook",
			CertDir:           certDir,
			Log:               ctrl.Log.WithName("certificates"),
		})
		if err != nil {
			return err
		}
		mgr, err := ctrl.NewManager(cfg, ctrl.Options{WebhookServer: crwebhook.NewServer(crwebhook.Options{CertDir: certDir})})
		if err != nil {
			return err
		}
		if err := mgr.Add(rot); err != nil {
			return err
		}
		if err := mgr.AddReadyzCheck("certificates", rot.ReadyChecker()); err != nil {
			return err
		}
		boot, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := rot.EnsureCertFiles(boot); err != nil {
			return err
		}
		return mgr.Start(ctx)
	}
	// Compiled, not run: it needs a cluster.
	_ = run
}
