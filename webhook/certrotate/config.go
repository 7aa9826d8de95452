// Package certrotate keeps the webhook's serving certificate valid without
// restarts when the webhook manages its own certificates, in the manner of
// Gatekeeper's cert-controller: every replica shares one CA and serving
// certificate through a Secret, writes them to the directory the webhook
// server reads, and patches the caBundle of the webhook configuration.
package certrotate

import (
	"fmt"
	"net"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Defaults applied by New to zero fields.
const (
	DefaultSecretName      = "mesh-webhook-certs"
	DefaultClusterDomain   = "cluster.local"
	DefaultCertName        = "tls.crt"
	DefaultKeyName         = "tls.key"
	DefaultCAValidity      = 10 * 365 * 24 * time.Hour
	DefaultServingValidity = 365 * 24 * time.Hour
	DefaultRenewFraction   = 1.0 / 3
	DefaultCheckInterval   = time.Minute
)

// Config says where the certificates live and how long they last.
type Config struct {
	// Client reads and writes one Secret and one
	// ValidatingWebhookConfiguration, and watches both. Use a client that
	// talks to the apiserver directly (client.NewWithWatch), not the
	// manager's cached client: it must work before the manager starts, and
	// a Secret cache would need cluster-wide list rights on Secrets.
	Client client.WithWatch
	// Namespace of the webhook, its Service and the Secret.
	Namespace string
	// SecretName holds ca.crt, ca.key, tls.crt and tls.key, shared by all
	// replicas. Default DefaultSecretName.
	SecretName string
	// ServiceName makes the certificate's DNS names
	// <service>.<namespace>.svc and <service>.<namespace>.svc.<ClusterDomain>.
	ServiceName   string
	ClusterDomain string
	// ExtraHosts are more DNS names or IP addresses for the certificate, for
	// a webhook registered by url: (for example 127.0.0.1 in a local cluster).
	ExtraHosts []string
	// WebhookConfigName is the ValidatingWebhookConfiguration whose every
	// webhook gets the caBundle.
	WebhookConfigName string
	// CertDir, CertName and KeyName are where the webhook server reads its
	// serving certificate (webhook.Options.CertDir and friends).
	CertDir  string
	CertName string
	KeyName  string
	// CAValidity and ServingValidity are the certificates' lifetimes.
	CAValidity      time.Duration
	ServingValidity time.Duration
	// RenewFraction renews a certificate when less than this fraction of its
	// lifetime remains (0 < f < 1). Default 1/3.
	RenewFraction float64
	// CheckInterval is how often the Secret, the files and the caBundle are
	// checked besides the watches. Default one minute.
	CheckInterval time.Duration
	Log           logr.Logger
	// Clock is time.Now and timers; tests inject a fake one.
	Clock clock.Clock
}

func (c *Config) setDefaults() {
	if c.SecretName == "" {
		c.SecretName = DefaultSecretName
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = DefaultClusterDomain
	}
	if c.CertName == "" {
		c.CertName = DefaultCertName
	}
	if c.KeyName == "" {
		c.KeyName = DefaultKeyName
	}
	if c.CAValidity == 0 {
		c.CAValidity = DefaultCAValidity
	}
	if c.ServingValidity == 0 {
		c.ServingValidity = DefaultServingValidity
	}
	if c.RenewFraction == 0 {
		c.RenewFraction = DefaultRenewFraction
	}
	if c.CheckInterval == 0 {
		c.CheckInterval = DefaultCheckInterval
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
}

func (c *Config) validate() error {
	switch {
	case c.Client == nil:
		return fmt.Errorf("certificate rotation: no client")
	case c.Namespace == "":
		return fmt.Errorf("certificate rotation: no namespace")
	case c.ServiceName == "":
		return fmt.Errorf("certificate rotation: no service name")
	case c.WebhookConfigName == "":
		return fmt.Errorf("certificate rotation: no ValidatingWebhookConfiguration name")
	case c.CertDir == "":
		return fmt.Errorf("certificate rotation: no certificate directory")
	case c.CAValidity < 0 || c.ServingValidity < 0 || c.CheckInterval < 0:
		return fmt.Errorf("certificate rotation: durations must be positive")
	case c.RenewFraction <= 0 || c.RenewFraction >= 1:
		return fmt.Errorf("certificate rotation: renew fraction %g is not between 0 and 1", c.RenewFraction)
	}
	return nil
}

// hosts splits the certificate's names into DNS names and IP addresses.
func (c *Config) hosts() ([]string, []net.IP) {
	svc := c.ServiceName + "." + c.Namespace + ".svc"
	dns := []string{svc, svc + "." + c.ClusterDomain}
	var ips []net.IP
	for _, h := range c.ExtraHosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, h)
		}
	}
	return dns, ips
}
