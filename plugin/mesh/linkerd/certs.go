package linkerd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

const (
	// TrustAnchorName and IssuerName are the names `linkerd install` and
	// Linkerd's step instructions give the identity certificates.
	TrustAnchorName = "root.linkerd.cluster.local"
	IssuerName      = "identity.linkerd.cluster.local"

	// DefaultTrustAnchorValidity is ten years, as Linkerd's docs suggest
	// for a long-lived trust anchor (step --not-after=87600h).
	DefaultTrustAnchorValidity = 10 * 365 * 24 * time.Hour
	// DefaultIssuerValidity is one year (step --not-after 8760h).
	DefaultIssuerValidity = 365 * 24 * time.Hour

	// clockSkew backdates NotBefore, as Linkerd's own CA does, so that a
	// node whose clock is slightly behind accepts a fresh certificate.
	clockSkew = 10 * time.Second
)

// Identity is Linkerd's mTLS identity: the trust anchor bundle the proxies
// trust, and the issuer certificate and key the identity controller signs
// proxy certificates with. The key is secret: it goes only into the chart
// values (the linkerd-identity-issuer Secret); never print or log it.
type Identity struct {
	TrustAnchorsPEM string
	IssuerCertPEM   string
	IssuerKeyPEM    string
}

// String keeps the issuer key out of logs and %v.
func (Identity) String() string { return "linkerd.Identity{...}" }

// GoString keeps the issuer key out of %#v.
func (i Identity) GoString() string { return i.String() }

// GenerateIdentity creates an ECDSA P-256 trust anchor (self-signed root CA,
// as `step certificate create root.linkerd.cluster.local --profile root-ca`)
// and an issuer signed by it (intermediate CA with pathlen 0, as
// `--profile intermediate-ca`), valid from now for the given durations
// (0 means the defaults).
func GenerateIdentity(now time.Time, anchorValidity, issuerValidity time.Duration) (*Identity, error) {
	if anchorValidity <= 0 {
		anchorValidity = DefaultTrustAnchorValidity
	}
	if issuerValidity <= 0 {
		issuerValidity = DefaultIssuerValidity
	}
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the trust anchor key: %w", err)
	}
	root, err := caTemplate(TrustAnchorName, now, anchorValidity)
	if err != nil {
		return nil, err
	}
	// pathlen 1: the anchor signs the issuer, which signs only proxy
	// certificates.
	root.MaxPathLen = 1
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("signing the trust anchor: %w", err)
	}
	rootCert, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, fmt.Errorf("reading the trust anchor: %w", err)
	}

	issuerKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the issuer key: %w", err)
	}
	issuer, err := caTemplate(IssuerName, now, issuerValidity)
	if err != nil {
		return nil, err
	}
	issuer.MaxPathLen = 0
	issuer.MaxPathLenZero = true
	// An issuer must not outlive its anchor: proxies would stop trusting
	// it first.
	if issuer.NotAfter.After(rootCert.NotAfter) {
		issuer.NotAfter = rootCert.NotAfter
	}
	issuerDER, err := x509.CreateCertificate(rand.Reader, issuer, rootCert, &issuerKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("signing the issuer certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(issuerKey)
	if err != nil {
		return nil, fmt.Errorf("encoding the issuer key: %w", err)
	}
	return &Identity{
		TrustAnchorsPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})),
		IssuerCertPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuerDER})),
		IssuerKeyPEM:    string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})),
	}, nil
}

// caTemplate is a CA certificate as step's root-ca and intermediate-ca
// profiles make it; the name is also the DNS SAN, which Linkerd verifies
// the issuer against.
func caTemplate(name string, now time.Time, validity time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generating a serial number: %w", err)
	}
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		DNSNames:              []string{name},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
	}, nil
}
