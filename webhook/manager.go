package webhook

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// NewManager builds the controller-runtime manager that serves the admission
// webhook, /healthz, /readyz and /metrics, and registers the handlers.
func NewManager(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	server := crwebhook.NewServer(crwebhook.Options{
		Host:     o.Host,
		Port:     o.Port,
		CertDir:  o.CertDir,
		CertName: o.CertName,
		KeyName:  o.KeyName,
		TLSOpts:  o.tlsOptions(),
	})
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		WebhookServer:          server,
		Metrics:                metricsserver.Options{BindAddress: o.MetricsBindAddress},
		HealthProbeBindAddress: o.HealthProbeBindAddress,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	if err := Setup(mgr); err != nil {
		return nil, err
	}
	return mgr, nil
}

// Setup registers the admission handler and the health checks on mgr.
func Setup(mgr ctrl.Manager) error {
	log := mgr.GetLogger().WithName("admission")
	mgr.GetWebhookServer().Register(ValidatePath, &admission.Webhook{
		Handler:      newAllowAllHandler(log),
		RecoverPanic: ptr.To(true),
	})
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("adding the health check: %w", err)
	}
	// Ready once the webhook server has started serving TLS.
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return fmt.Errorf("adding the readiness check: %w", err)
	}
	return nil
}
