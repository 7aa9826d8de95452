package certrotate

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// Keys of the shared Secret.
const (
	keyCACert  = "ca.crt" // the signing CA first, then older CAs still trusted
	keyCAKey   = "ca.key"
	keyTLSCert = corev1.TLSCertKey
	keyTLSKey  = corev1.TLSPrivateKeyKey
)

const caCommonName = "kubectl-mesh-webhook-ca"

// material is the Secret's content, parsed and valid.
type material struct {
	ca *certs.CA
	// trusted is the caBundle: ca first, then CAs it replaced, kept until
	// they expire so that a replica still serving a certificate they signed
	// stays trusted (a certificate never outlives its CA).
	trusted []*x509.Certificate
	serving certs.Pair
}

func (m material) data() map[string][]byte {
	return map[string][]byte{
		keyCACert:  certs.EncodeCertificates(m.trusted),
		keyCAKey:   m.ca.KeyPEM,
		keyTLSCert: m.serving.CertPEM,
		keyTLSKey:  m.serving.KeyPEM,
	}
}

// plan returns the material the Secret should hold, reusing what data holds
// when it is valid, and the reasons for each certificate it had to make.
func (r *Rotator) plan(data map[string][]byte) (material, []string, error) {
	now := r.cfg.Clock.Now()
	var reasons []string

	ca, err := certs.LoadCA(data[keyCACert], data[keyCAKey])
	switch {
	case err != nil:
		reasons = append(reasons, fmt.Sprintf("the CA is unusable: %v", err))
	case r.dueForRenewal(ca.Certificate(), now):
		reasons = append(reasons, fmt.Sprintf("the CA expires at %s", ca.Certificate().NotAfter.UTC().Format(time.RFC3339)))
	}
	if len(reasons) > 0 {
		if ca, err = certs.NewCAAt(caCommonName, now, r.cfg.CAValidity); err != nil {
			return material{}, nil, fmt.Errorf("renewing the CA: %w", err)
		}
	}
	// Unparsable bundles are dropped: nothing can be trusted from them.
	previous, _ := certs.ParseCertificates(data[keyCACert])
	m := material{ca: ca, trusted: trustedCAs(ca.Certificate(), previous, now)}

	serving := certs.Pair{CertPEM: data[keyTLSCert], KeyPEM: data[keyTLSKey]}
	if err := r.checkServing(serving, ca.Certificate(), now); err != nil {
		reasons = append(reasons, fmt.Sprintf("the serving certificate %v", err))
		dns, ips := r.cfg.hosts()
		if serving, err = ca.IssueServingAt(dns, ips, now, r.cfg.ServingValidity); err != nil {
			return material{}, nil, fmt.Errorf("renewing the serving certificate: %w", err)
		}
	}
	m.serving = serving
	if len(data) == 0 {
		reasons = []string{"the Secret is missing or empty"}
	}
	if len(reasons) == 0 && !bytes.Equal(data[keyCACert], m.data()[keyCACert]) {
		reasons = append(reasons, "the CA bundle holds expired or foreign certificates")
	}
	return m, reasons, nil
}

// trustedCAs is current followed by the unexpired CAs of previous.
func trustedCAs(current *x509.Certificate, previous []*x509.Certificate, now time.Time) []*x509.Certificate {
	out := []*x509.Certificate{current}
	for _, c := range previous {
		if c.IsCA && now.Before(c.NotAfter) && !slices.ContainsFunc(out, c.Equal) {
			out = append(out, c)
		}
	}
	return out
}

// checkServing says why pair cannot keep serving: it does not load, is not
// signed by ca, does not carry the configured names, or is due for renewal.
func (r *Rotator) checkServing(pair certs.Pair, ca *x509.Certificate, now time.Time) error {
	if _, err := tls.X509KeyPair(pair.CertPEM, pair.KeyPEM); err != nil {
		return fmt.Errorf("does not load: %w", err)
	}
	chain, err := certs.ParseCertificates(pair.CertPEM)
	if err != nil {
		return err
	}
	leaf := chain[0]
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return fmt.Errorf("does not verify against the CA: %w", err)
	}
	dns, ips := r.cfg.hosts()
	if !sameStrings(leaf.DNSNames, dns) || !sameIPs(leaf.IPAddresses, ips) {
		return fmt.Errorf("is for %v %v, want %v %v", leaf.DNSNames, leaf.IPAddresses, dns, ips)
	}
	if r.dueForRenewal(leaf, now) {
		return fmt.Errorf("expires at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// dueForRenewal is true when less than RenewFraction of the certificate's
// lifetime remains.
func (r *Rotator) dueForRenewal(cert *x509.Certificate, now time.Time) bool {
	lifetime := cert.NotAfter.Sub(cert.NotBefore)
	return cert.NotAfter.Sub(now) < time.Duration(float64(lifetime)*r.cfg.RenewFraction)
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func sameIPs(a, b []net.IP) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(ip net.IP) bool {
		return !slices.ContainsFunc(b, ip.Equal)
	})
}
