// Package webhook runs the kubectl-mesh validating admission webhook on a
// controller-runtime manager.
package webhook

import (
	"crypto/tls"
	"flag"
	"fmt"
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
	EnableHTTP2            bool
}

// DefaultOptions returns the settings used when no flag is given.
func DefaultOptions() Options {
	return Options{
		Port:                   9443,
		CertDir:                "/tmp/k8s-webhook-server/serving-certs",
		CertName:               "tls.crt",
		KeyName:                "tls.key",
		MetricsBindAddress:     ":8080",
		HealthProbeBindAddress: ":8081",
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
	fs.BoolVar(&o.EnableHTTP2, "enable-http2", o.EnableHTTP2, "Serve HTTP/2 on the webhook server. Off by default: HTTP/2 Rapid Reset (CVE-2023-44487) and Stream Cancellation (CVE-2023-39325).")
}

// Validate checks values that flag parsing cannot.
func (o *Options) Validate() error {
	if o.Port < 1 || o.Port > 65535 {
		return fmt.Errorf("--port: %d is not a TCP port (1-65535)", o.Port)
	}
	if o.CertDir == "" {
		return fmt.Errorf("--cert-dir: must not be empty")
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
