package linkerd

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

const (
	// TrustRootsConfigMap holds the trust anchor bundle (ca-bundle.crt).
	TrustRootsConfigMap = "linkerd-identity-trust-roots"
	// IssuerSecret holds the issuer: crt.pem/key.pem (scheme linkerd.io/tls)
	// or tls.crt/tls.key (kubernetes.io/tls, e.g. from cert-manager).
	IssuerSecret = "linkerd-identity-issuer"

	// ExpiryWarning is linkerd check's window: it warns on certificates
	// that expire within 60 days.
	ExpiryWarning = 60 * 24 * time.Hour
)

// certificates reads the public facts of the trust anchors and the issuer
// certificate. Only certificate keys of the Secret are read; the private
// key is never decoded, returned or printed.
func certificates(ctx context.Context, c mesh.Cluster, ns string, now time.Time) ([]mesh.Certificate, []string, error) {
	if c.Clientset == nil {
		return nil, nil, nil
	}
	var certs []mesh.Certificate
	var warnings []string
	add := func(name string, cs []*x509.Certificate) {
		for _, x := range cs {
			cert := mesh.Certificate{Name: name, Subject: x.Subject.CommonName, NotAfter: x.NotAfter.UTC(), Expiring: x.NotAfter.Sub(now) < ExpiryWarning}
			certs = append(certs, cert)
			switch {
			case now.After(x.NotAfter):
				warnings = append(warnings, fmt.Sprintf("the %s %s expired on %s: proxies can no longer get certificates; rotate it (Linkerd's docs: Manually Rotating Control Plane TLS Credentials)", name, cert.Subject, cert.NotAfter.Format(time.RFC3339)))
			case cert.Expiring:
				warnings = append(warnings, fmt.Sprintf("the %s %s expires on %s, within 60 days: rotate it", name, cert.Subject, cert.NotAfter.Format(time.RFC3339)))
			}
		}
	}

	cm, err := c.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, TrustRootsConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		warnings = append(warnings, fmt.Sprintf("configmap %s/%s with the trust anchors not found", ns, TrustRootsConfigMap))
	case err != nil:
		return nil, nil, fmt.Errorf("reading configmap %s/%s: %w", ns, TrustRootsConfigMap, err)
	default:
		anchors, err := parseCerts(cm.Data["ca-bundle.crt"])
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("configmap %s/%s ca-bundle.crt: %v", ns, TrustRootsConfigMap, err))
		}
		add("trust anchor", anchors)
	}

	sec, err := c.Clientset.CoreV1().Secrets(ns).Get(ctx, IssuerSecret, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		warnings = append(warnings, fmt.Sprintf("secret %s/%s with the issuer certificate not found", ns, IssuerSecret))
	case err != nil:
		return nil, nil, fmt.Errorf("reading secret %s/%s: %w", ns, IssuerSecret, err)
	default:
		data := sec.Data["crt.pem"]
		if len(data) == 0 {
			data = sec.Data["tls.crt"]
		}
		chain, err := parseCerts(string(data))
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("secret %s/%s: issuer certificate: %v", ns, IssuerSecret, err))
		} else {
			add("issuer", chain[:1])
		}
	}
	return certs, warnings, nil
}
