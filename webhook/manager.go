package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/admission"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/audit"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certrotate"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/custompolicy"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/inventory"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

// eventSource names the webhook in the Events it records.
const eventSource = "kubectl-mesh-webhook"

// Webhook is the assembled webhook: a controller-runtime manager that
// serves admission reviews, keeps the inventory and the custom policies in
// step with the cluster, audits, and (in self mode) rotates its certificates.
type Webhook struct {
	Manager ctrl.Manager
	Engine  *policies.Engine
	rotator *certrotate.Rotator
	// stopping is set at SIGTERM, ShutdownDelay before the manager stops.
	stopping      atomic.Bool
	shutdownDelay time.Duration
}

// New compiles the policy library and assembles the webhook on a new
// manager. Nothing reaches the apiserver before Start.
func New(ctx context.Context, cfg *rest.Config, o Options) (*Webhook, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	engine, err := policies.New(ctx, policies.Options{Enforcement: o.EnforcementOverrides, PolicyTimeout: o.PolicyDeadline()})
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("building the scheme: %w", err)
	}
	if err := audit.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("building the scheme: %w", err)
	}
	server := newDrainingServer(crwebhook.Options{
		Host:     o.Host,
		Port:     o.Port,
		CertDir:  o.CertDir,
		CertName: o.CertName,
		KeyName:  o.KeyName,
		TLSOpts:  o.tlsOptions(),
	})
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		WebhookServer:           server,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsBindAddress},
		HealthProbeBindAddress:  o.HealthProbeBindAddress,
		PprofBindAddress:        o.PprofBindAddress,
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        "mesh-webhook-audit", // the chart's Role grants this Lease by name
		LeaderElectionNamespace: o.Namespace,
		// A stopping leader hands the audit over at once rather than after
		// the lease expires (15 s): the process exits when the manager does.
		LeaderElectionReleaseOnCancel: true,
		// Admission keeps being served while a stopping replica drains.
		GracefulShutdownTimeout: ptr.To(30 * time.Second),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	w := &Webhook{Manager: mgr, Engine: engine, shutdownDelay: o.ShutdownDelay}
	if err := w.setup(o); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Webhook) setup(o Options) error {
	mgr := w.Manager
	m, err := metrics.NewRegistered()
	if err != nil {
		return fmt.Errorf("registering the metrics: %w", err)
	}
	m.PoliciesLoaded.Set(float64(len(w.Engine.Policies())))
	log := mgr.GetLogger()

	inv, err := inventory.New(inventory.Options{
		Config: mgr.GetConfig(), HTTPClient: mgr.GetHTTPClient(), Mapper: mgr.GetRESTMapper(),
		Reader: mgr.GetAPIReader(), Engine: w.Engine, Log: log.WithName("inventory"),
	})
	if err != nil {
		return err
	}
	runnables := []manager.Runnable{inv}
	onLoad := inv.Resync
	if o.AuditInterval > 0 {
		auditor, err := audit.New(audit.Config{
			Engine: w.Engine, Source: inv, Client: mgr.GetClient(), Reader: mgr.GetAPIReader(),
			Recorder: mgr.GetEventRecorder(eventSource), Metrics: m, Log: log.WithName("audit"),
			Interval: o.AuditInterval, ExcludedNamespaces: o.Excluded(),
		})
		if err != nil {
			return err
		}
		runnables = append(runnables, auditor)
		// New policies look up new kinds, and existing objects may now
		// violate them: watch those kinds and audit soon.
		onLoad = func() { inv.Resync(); auditor.Trigger() }
	}
	loader, err := custompolicy.New(custompolicy.Options{
		Config: mgr.GetConfig(), HTTPClient: mgr.GetHTTPClient(), Mapper: mgr.GetRESTMapper(),
		Namespace: o.Namespace, Engine: w.Engine,
		Recorder: mgr.GetEventRecorder(eventSource), Metrics: m,
		Log: log.WithName("policies"), OnLoad: onLoad,
	})
	if err != nil {
		return err
	}
	handler, err := admission.New(admission.Config{
		Engine: w.Engine, Confirmer: inv, Metrics: m, Log: log.WithName("admission"),
		ExcludedNamespaces:       o.Excluded(),
		MaxConcurrent:            o.MaxConcurrentReviews,
		Timeout:                  o.EvaluationTimeout,
		PolicyConfigMapNamespace: o.Namespace,
		PolicyConfigMapValidator: func(ctx context.Context, cm *corev1.ConfigMap) error { return loader.Validate(ctx, cm) },
		Ready:                    func() bool { return inv.Synced() && loader.Synced() },
	})
	if err != nil {
		return err
	}
	mgr.GetWebhookServer().Register(ValidatePath, &cradmission.Webhook{Handler: handler, RecoverPanic: ptr.To(true)})

	runnables = append(runnables, loader)
	checks := map[string]healthz.Checker{
		// Ready once the server serves TLS, the first inventory reached the
		// engine and the policy ConfigMaps were loaded: a replica that
		// admitted requests before that would judge them on nothing.
		"webhook":         mgr.GetWebhookServer().StartedChecker(),
		"inventory":       inv.ReadyCheck(),
		"custom-policies": loader.ReadyCheck(),
		// Not ready from SIGTERM on, so that the endpoint leaves the
		// Service while the webhook still serves (ShutdownDelay).
		"shutdown": func(*http.Request) error {
			if w.stopping.Load() {
				return errors.New("shutting down")
			}
			return nil
		},
	}
	if o.CertMode == CertModeSelf {
		// Uncached: the manager's client is not usable before Start, and
		// caching Secrets would need rights on every Secret.
		c, err := client.NewWithWatch(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), HTTPClient: mgr.GetHTTPClient()})
		if err != nil {
			return fmt.Errorf("creating the certificate client: %w", err)
		}
		w.rotator, err = certrotate.New(certrotate.Config{
			Client: c, Namespace: o.Namespace, SecretName: o.CertSecretName,
			ServiceName: o.ServiceName, WebhookConfigName: o.WebhookConfigName,
			CertDir: o.CertDir, CertName: o.CertName, KeyName: o.KeyName,
			ExtraHosts: o.CertExtraHosts,
			Log:        log.WithName("certificates"),
		})
		if err != nil {
			return err
		}
		runnables = append(runnables, w.rotator)
		checks["certificates"] = w.rotator.ReadyChecker()
	}
	for _, r := range runnables {
		if err := mgr.Add(r); err != nil {
			return fmt.Errorf("adding %T to the manager: %w", r, err)
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("adding the health check: %w", err)
	}
	for name, check := range checks {
		if err := mgr.AddReadyzCheck(name, check); err != nil {
			return fmt.Errorf("adding the readiness check %s: %w", name, err)
		}
	}
	return nil
}

// Start runs the webhook until ctx ends. In self mode the serving
// certificate is written first: the webhook server cannot start without it.
func (w *Webhook) Start(ctx context.Context) error {
	if w.rotator != nil {
		boot, cancel := context.WithTimeout(ctx, time.Minute)
		err := w.rotator.EnsureCertFiles(boot)
		cancel()
		if err != nil {
			return fmt.Errorf("writing the serving certificate: %w", err)
		}
	}
	run, stop := delayedCancel(ctx, w.shutdownDelay, func() { w.stopping.Store(true) })
	defer stop()
	return w.Manager.Start(run)
}

// delayedCancel returns a context that ends delay after ctx ends; onEnd
// runs when ctx ends. stop releases it early.
func delayedCancel(ctx context.Context, delay time.Duration, onEnd func()) (context.Context, context.CancelFunc) {
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-run.Done():
			return
		case <-ctx.Done():
		}
		onEnd()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-run.Done():
		case <-t.C:
		}
		cancel()
	}()
	return run, cancel
}
