// Package webhook runs the kubectl-mesh validating admission webhook on a
// controller-runtime manager.
package webhook

import (
	"crypto/tls"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// ValidatePath is where the apiserver sends AdmissionReviews.
const ValidatePath = "/validate"

// Options are the webhook binary's settings; BindFlags documents each one.
type Options struct {
	Host                   string
	Port                   int
	CertDir                string
	CertName               string
	KeyName                string
	MetricsBindAddress     string
	HealthProbeBindAddress string
	// PprofBindAddress serves net/http/pprof for profiling; empty is off.
	PprofBindAddress string
	EnableHTTP2      bool

	// Namespace is where the webhook runs: its policy ConfigMaps, its
	// certificate Secret and its leader-election lease live there.
	Namespace string
	// ExcludedNamespaces are never reviewed nor audited.
	ExcludedNamespaces []string
	// EvaluationTimeout bounds one review; keep it below the webhook
	// configuration's timeoutSeconds so the apiserver gets an answer.
	EvaluationTimeout time.Duration
	// PolicyTimeout bounds one policy on one review; a policy cut off is
	// reported as a warning naming it while the others decide. Zero means
	// a third of EvaluationTimeout (PolicyDeadline).
	PolicyTimeout time.Duration
	// MaxConcurrentReviews bounds the reviews evaluated at once.
	MaxConcurrentReviews int
	// AuditInterval is the period of the background audit; 0 turns it off.
	AuditInterval time.Duration
	// EnforcementOverrides change a policy's enforcement by ID.
	EnforcementOverrides map[string]policies.Enforcement
	// CertMode is "self" (the webhook generates, rotates and publishes its
	// certificates) or "external" (it only reads them from CertDir, where
	// cert-manager or anyone else puts them).
	CertMode string
	// WebhookConfigName is the ValidatingWebhookConfiguration whose
	// caBundle the webhook keeps current in self mode.
	WebhookConfigName string
	// ServiceName is the Service in front of the webhook: the serving
	// certificate is issued for its DNS names.
	ServiceName string
	// CertExtraHosts are further DNS names or IPs of the serving
	// certificate, for a webhook reached by url: (127.0.0.1 when local).
	CertExtraHosts []string
	// CertSecretName is the Secret the replicas share their CA and serving
	// certificate through, in self mode.
	CertSecretName string
	// LeaderElection makes one replica at a time write audit reports.
	LeaderElection bool
	// ShutdownDelay is how long the webhook keeps serving after SIGTERM,
	// not ready, before it stops accepting connections: long enough for
	// its endpoint to leave the Service whoever sent the signal.
	ShutdownDelay time.Duration
}

// Certificate modes.
const (
	CertModeSelf     = "self"
	CertModeExternal = "external"
)

// DefaultOptions returns the settings used when no flag is given.
func DefaultOptions() Options {
	return Options{
		Port:                   9443,
		CertDir:                "/tmp/k8s-webhook-server/serving-certs",
		CertName:               "tls.crt",
		KeyName:                "tls.key",
		MetricsBindAddress:     ":8080",
		HealthProbeBindAddress: ":8081",
		Namespace:              "kubectl-mesh-system",
		ExcludedNamespaces:     []string{"kube-system"},
		EvaluationTimeout:      3 * time.Second,
		MaxConcurrentReviews:   64,
		AuditInterval:          time.Minute,
		CertMode:               CertModeExternal,
		WebhookConfigName:      "mesh-webhook",
		ServiceName:            "mesh-webhook",
		CertSecretName:         "mesh-webhook-certs",
	}
}

// BindFlags registers the options on fs.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Host, "host", o.Host, "Address the admission webhook server listens on; empty means all interfaces.")
	fs.IntVar(&o.Port, "port", o.Port, "Port of the admission webhook server (HTTPS).")
	fs.StringVar(&o.CertDir, "cert-dir", o.CertDir, "Directory holding the serving certificate and key; they are reloaded when they change.")
	fs.StringVar(&o.CertName, "cert-name", o.CertName, "File name of the serving certificate in --cert-dir.")
	fs.StringVar(&o.KeyName, "key-name", o.KeyName, "File name of the serving key in --cert-dir.")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "Address of the Prometheus /metrics endpoint (HTTP); \"0\" turns it off.")
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress, "Address of the /healthz and /readyz endpoints (HTTP).")
	fs.StringVar(&o.PprofBindAddress, "pprof-bind-address", o.PprofBindAddress, "Address of the Go profiling endpoints (/debug/pprof, HTTP); empty turns them off.")
	fs.BoolVar(&o.EnableHTTP2, "enable-http2", o.EnableHTTP2, "Serve HTTP/2 on the webhook server. Off by default: HTTP/2 Rapid Reset (CVE-2023-44487) and Stream Cancellation (CVE-2023-39325).")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "Namespace the webhook runs in: policy ConfigMaps, the certificate Secret and the leader-election lease live there. Never reviewed.")
	fs.Func("excluded-namespaces", "Comma-separated namespaces that are never reviewed nor audited (default \"kube-system\"; the webhook's own namespace is always excluded).", func(v string) error {
		o.ExcludedNamespaces = splitList(v)
		return nil
	})
	fs.DurationVar(&o.EvaluationTimeout, "evaluation-timeout", o.EvaluationTimeout, "Deadline of one review; keep it below the webhook configuration's timeoutSeconds.")
	fs.DurationVar(&o.PolicyTimeout, "policy-timeout", o.PolicyTimeout, "Deadline of one policy on one review; a policy cut off is not enforced, the others still decide, and the answer warns about it. Below --evaluation-timeout; 0 means a third of it.")
	fs.IntVar(&o.MaxConcurrentReviews, "max-concurrent-reviews", o.MaxConcurrentReviews, "Reviews evaluated at once; more wait, until their deadline.")
	fs.DurationVar(&o.AuditInterval, "audit-interval", o.AuditInterval, "Period of the background audit of existing resources; 0 turns the audit off.")
	fs.Func("enforcement-override", "Change a policy's enforcement, as ID=deny|warn|audit (for example MESH1301=warn); repeat the flag for several policies.", func(v string) error {
		id, action, ok := strings.Cut(v, "=")
		if !ok || strings.TrimSpace(id) == "" {
			return fmt.Errorf("%q is not ID=deny|warn|audit", v)
		}
		e, err := policies.ParseEnforcement(strings.TrimSpace(action))
		if err != nil {
			return err
		}
		if o.EnforcementOverrides == nil {
			o.EnforcementOverrides = map[string]policies.Enforcement{}
		}
		o.EnforcementOverrides[strings.TrimSpace(id)] = e
		return nil
	})
	fs.StringVar(&o.CertMode, "cert-mode", o.CertMode, "Where the serving certificate comes from: \"self\" (generated, rotated and published in the webhook configuration's caBundle by the webhook) or \"external\" (read from --cert-dir, where cert-manager or anyone else writes it).")
	fs.StringVar(&o.WebhookConfigName, "webhook-config-name", o.WebhookConfigName, "ValidatingWebhookConfiguration whose caBundle the webhook keeps current (--cert-mode=self).")
	fs.StringVar(&o.ServiceName, "service-name", o.ServiceName, "Service in front of the webhook; the serving certificate is issued for its DNS names (--cert-mode=self).")
	fs.Func("cert-extra-hosts", "Comma-separated further DNS names or IPs of the serving certificate, for a webhook registered by url (--cert-mode=self).", func(v string) error {
		o.CertExtraHosts = splitList(v)
		return nil
	})
	fs.StringVar(&o.CertSecretName, "cert-secret-name", o.CertSecretName, "Secret in --namespace through which the replicas share their CA and serving certificate (--cert-mode=self).")
	fs.BoolVar(&o.LeaderElection, "leader-elect", o.LeaderElection, "Elect one replica to write audit reports; every replica still answers admission requests.")
	fs.DurationVar(&o.ShutdownDelay, "shutdown-delay", o.ShutdownDelay, "How long to keep serving after SIGTERM, reporting not ready, before refusing new connections and draining: longer than the readiness probe takes to fail plus the endpoint's removal. 0 drains at once.")
}

// Validate checks values that flag parsing cannot.
func (o *Options) Validate() error {
	if o.Port < 1 || o.Port > 65535 {
		return fmt.Errorf("--port: %d is not a TCP port (1-65535)", o.Port)
	}
	if o.CertDir == "" {
		return fmt.Errorf("--cert-dir: must not be empty")
	}
	if o.Namespace == "" {
		return fmt.Errorf("--namespace: must not be empty")
	}
	if o.EvaluationTimeout <= 0 {
		return fmt.Errorf("--evaluation-timeout: %s is not a positive duration", o.EvaluationTimeout)
	}
	if o.PolicyTimeout < 0 || o.PolicyTimeout >= o.EvaluationTimeout {
		return fmt.Errorf("--policy-timeout: %s, want a duration below --evaluation-timeout (%s), so that the other policies still decide; 0 means a third of it", o.PolicyTimeout, o.EvaluationTimeout)
	}
	if o.MaxConcurrentReviews < 1 {
		return fmt.Errorf("--max-concurrent-reviews: %d, want at least 1", o.MaxConcurrentReviews)
	}
	if o.ShutdownDelay < 0 {
		return fmt.Errorf("--shutdown-delay: %s is negative; 0 drains at once", o.ShutdownDelay)
	}
	if o.AuditInterval < 0 {
		return fmt.Errorf("--audit-interval: %s is negative; 0 turns the audit off", o.AuditInterval)
	}
	if !slices.Contains([]string{CertModeSelf, CertModeExternal}, o.CertMode) {
		return fmt.Errorf("--cert-mode: %q, want %q or %q", o.CertMode, CertModeSelf, CertModeExternal)
	}
	if o.CertMode == CertModeSelf && (o.WebhookConfigName == "" || o.ServiceName == "" || o.CertSecretName == "") {
		return fmt.Errorf("--cert-mode=self needs --webhook-config-name, --service-name and --cert-secret-name")
	}
	return nil
}

// tlsOptions hardens the webhook server: TLS 1.2 or newer, and HTTP/1.1 only
// unless HTTP/2 is asked for.
func (o *Options) tlsOptions() []func(*tls.Config) {
	opts := []func(*tls.Config){
		func(c *tls.Config) { c.MinVersion = tls.VersionTLS12 },
	}
	if !o.EnableHTTP2 {
		opts = append(opts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	return opts
}

// PolicyDeadline is the deadline of one policy on one review.
func (o *Options) PolicyDeadline() time.Duration {
	if o.PolicyTimeout > 0 {
		return o.PolicyTimeout
	}
	return o.EvaluationTimeout / 3
}

// Excluded lists the namespaces never reviewed: the configured ones and the
// webhook's own, so that a broken policy can never lock the webhook out of
// repairing itself.
func (o *Options) Excluded() []string {
	out := slices.Clone(o.ExcludedNamespaces)
	if o.Namespace != "" && !slices.Contains(out, o.Namespace) {
		out = append(out, o.Namespace)
	}
	return out
}

// splitList reads a comma-separated flag value, dropping empty entries.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
