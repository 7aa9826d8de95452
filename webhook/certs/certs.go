// Package certs generates the certificate authority and serving certificates
// of the admission webhook: ECDSA P-256 keys, PEM encoded.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Pair is a PEM-encoded certificate and its private key.
type Pair struct {
	CertPEM []byte
	KeyPEM  []byte
}

// CA signs serving certificates.
type CA struct {
	Pair
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA creates a self-signed certificate authority valid for validity.
func NewCA(commonName string, validity time.Duration) (*CA, error) {
	return NewCAAt(commonName, time.Now(), validity)
}

// NewCAAt creates a self-signed certificate authority valid from now for
// validity; callers with an injected clock pass its time.
func NewCAAt(commonName string, now time.Time, validity time.Duration) (*CA, error) {
	if validity <= 0 {
		return nil, fmt.Errorf("creating a CA: validity %s is not positive", validity)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-backdate(validity)),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("signing the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pair, err := encode(der, key)
	if err != nil {
		return nil, err
	}
	return &CA{Pair: pair, cert: cert, key: key}, nil
}

// IssueServing signs a serving certificate for the given DNS names and IPs.
func (ca *CA) IssueServing(dnsNames []string, ips []net.IP, validity time.Duration) (Pair, error) {
	return ca.IssueServingAt(dnsNames, ips, time.Now(), validity)
}

// IssueServingAt signs a serving certificate valid from now for validity, but
// never beyond the CA's own expiry: a certificate cannot outlive its issuer.
func (ca *CA) IssueServingAt(dnsNames []string, ips []net.IP, now time.Time, validity time.Duration) (Pair, error) {
	if len(dnsNames) == 0 && len(ips) == 0 {
		return Pair{}, fmt.Errorf("issuing a serving certificate: no DNS name or IP address")
	}
	if validity <= 0 {
		return Pair{}, fmt.Errorf("issuing a serving certificate: validity %s is not positive", validity)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, fmt.Errorf("generating the serving key: %w", err)
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	cn := ""
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     dnsNames,
		IPAddresses:  ips,
		NotBefore:    now.Add(-backdate(validity)),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return Pair{}, fmt.Errorf("signing the serving certificate: %w", err)
	}
	return encode(der, key)
}

// Certificate returns the CA's parsed certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// backdate is how far NotBefore lies before the time of issue, to tolerate
// clock skew between replicas and the apiserver: a minute, but at most a
// tenth of the validity, so that short-lived certificates keep their lifetime.
func backdate(validity time.Duration) time.Duration {
	return min(time.Minute, validity/10)
}

func encode(der []byte, key *ecdsa.PrivateKey) (Pair, error) {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return Pair{}, fmt.Errorf("encoding the key: %w", err)
	}
	return Pair{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// serial returns a random 128-bit serial number (RFC 5280 allows up to 20 octets).
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err)) // crypto/rand does not fail on Linux
	}
	return n
}
