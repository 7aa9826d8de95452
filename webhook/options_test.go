package webhook

import (
	"crypto/tls"
	"flag"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

func TestOptionsFlags(t *testing.T) {
	o := DefaultOptions()
	fs := flag.NewFlagSet("mesh-webhook", flag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse([]string{"--port=10250", "--cert-dir=/certs", "--enable-http2",
		"--namespace=mesh", "--excluded-namespaces=kube-system, istio-system", "--evaluation-timeout=2s",
		"--enforcement-override=MESH1301=warn", "--enforcement-override", "MESH1101=deny", "--cert-mode=self"}); err != nil {
		t.Fatal(err)
	}
	if o.Port != 10250 || o.CertDir != "/certs" || !o.EnableHTTP2 || o.EvaluationTimeout != 2*time.Second || o.CertMode != CertModeSelf {
		t.Errorf("flags not applied: %+v", o)
	}
	if want := []string{"kube-system", "istio-system", "mesh"}; !slices.Equal(o.Excluded(), want) {
		t.Errorf("Excluded() = %v, want %v (the configured namespaces and the webhook's own)", o.Excluded(), want)
	}
	if want := map[string]policies.Enforcement{"MESH1301": policies.EnforcementWarn, "MESH1101": policies.EnforcementDeny}; !maps.Equal(o.EnforcementOverrides, want) {
		t.Errorf("overrides = %v, want %v", o.EnforcementOverrides, want)
	}
	for _, bad := range []string{"--enforcement-override=MESH1301", "--enforcement-override=MESH1301=block"} {
		fs := flag.NewFlagSet("mesh-webhook", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o := DefaultOptions()
		o.BindFlags(fs)
		if err := fs.Parse([]string{bad}); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if strings.TrimSpace(f.Usage) == "" {
			t.Errorf("flag --%s has no help text", f.Name)
		}
	})
}

func TestPolicyDeadline(t *testing.T) {
	o := DefaultOptions()
	if got := o.PolicyDeadline(); got != time.Second {
		t.Errorf("default policy deadline %s, want a third of the review's 3s", got)
	}
	o.PolicyTimeout = 250 * time.Millisecond
	if got := o.PolicyDeadline(); got != o.PolicyTimeout {
		t.Errorf("policy deadline %s, want --policy-timeout's %s", got, o.PolicyTimeout)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{name: "defaults are valid", mutate: func(*Options) {}},
		{name: "port zero", mutate: func(o *Options) { o.Port = 0 }, wantErr: "--port: 0 is not a TCP port"},
		{name: "port too large", mutate: func(o *Options) { o.Port = 70000 }, wantErr: "--port: 70000"},
		{name: "no cert dir", mutate: func(o *Options) { o.CertDir = "" }, wantErr: "--cert-dir"},
		{name: "no namespace", mutate: func(o *Options) { o.Namespace = "" }, wantErr: "--namespace"},
		{name: "zero timeout", mutate: func(o *Options) { o.EvaluationTimeout = 0 }, wantErr: "--evaluation-timeout"},
		{name: "negative policy timeout", mutate: func(o *Options) { o.PolicyTimeout = -time.Second }, wantErr: "--policy-timeout: -1s, want a duration below --evaluation-timeout (3s)"},
		{name: "policy timeout as long as the review's", mutate: func(o *Options) { o.PolicyTimeout = o.EvaluationTimeout }, wantErr: "--policy-timeout: 3s"},
		{name: "no concurrency", mutate: func(o *Options) { o.MaxConcurrentReviews = 0 }, wantErr: "--max-concurrent-reviews"},
		{name: "negative audit interval", mutate: func(o *Options) { o.AuditInterval = -time.Second }, wantErr: "--audit-interval"},
		{name: "negative shutdown delay", mutate: func(o *Options) { o.ShutdownDelay = -time.Second }, wantErr: "--shutdown-delay"},
		{name: "unknown cert mode", mutate: func(o *Options) { o.CertMode = "vault" }, wantErr: `--cert-mode: "vault"`},
		{name: "self mode without a webhook configuration", mutate: func(o *Options) { o.CertMode = CertModeSelf; o.WebhookConfigName = "" }, wantErr: "--webhook-config-name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			tc.mutate(&o)
			err := o.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestTLSOptions(t *testing.T) {
	tests := []struct {
		name       string
		http2      bool
		wantProtos []string
	}{
		{name: "HTTP/2 off by default", wantProtos: []string{"http/1.1"}},
		{name: "HTTP/2 on request", http2: true, wantProtos: []string{"h2", "http/1.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			o.EnableHTTP2 = tc.http2
			cfg := &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
			for _, apply := range o.tlsOptions() {
				apply(cfg)
			}
			if cfg.MinVersion != tls.VersionTLS12 {
				t.Errorf("MinVersion = %x, want TLS 1.2", cfg.MinVersion)
			}
			if !slices.Equal(cfg.NextProtos, tc.wantProtos) {
				t.Errorf("NextProtos = %v, want %v", cfg.NextProtos, tc.wantProtos)
			}
		})
	}
}
