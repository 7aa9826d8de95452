package linkerd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Flag names, used in errors so the user knows which input to fix.
const (
	FlagTrustAnchors = "--identity-trust-anchors-file"
	FlagIssuerCert   = "--identity-issuer-certificate-file"
	FlagIssuerKey    = "--identity-issuer-key-file"
)

// identitySources names where each part of an Identity came from.
type identitySources struct{ anchors, cert, key string }

// LoadIdentity reads the trust anchors, issuer certificate and issuer key
// from the files given with the --identity-* flags and checks that they
// make a working Linkerd identity (see ValidateIdentity). All three files
// are needed: Linkerd cannot issue proxy certificates with fewer.
func LoadIdentity(anchorsFile, certFile, keyFile string, now time.Time) (*Identity, error) {
	var missing []string
	for _, f := range []struct{ flag, file string }{{FlagTrustAnchors, anchorsFile}, {FlagIssuerCert, certFile}, {FlagIssuerKey, keyFile}} {
		if f.file == "" {
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s missing: give the trust anchors, issuer certificate and issuer key together, or none of them to generate new ones", strings.Join(missing, ", "))
	}
	read := func(flag, file string) (string, error) {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", flag, err)
		}
		return string(data), nil
	}
	var id Identity
	var err error
	if id.TrustAnchorsPEM, err = read(FlagTrustAnchors, anchorsFile); err != nil {
		return nil, err
	}
	if id.IssuerCertPEM, err = read(FlagIssuerCert, certFile); err != nil {
		return nil, err
	}
	if id.IssuerKeyPEM, err = read(FlagIssuerKey, keyFile); err != nil {
		return nil, err
	}
	src := identitySources{
		anchors: FlagTrustAnchors + " " + anchorsFile,
		cert:    FlagIssuerCert + " " + certFile,
		key:     FlagIssuerKey + " " + keyFile,
	}
	if err := validateIdentity(&id, now, src); err != nil {
		return nil, err
	}
	return &id, nil
}

// ValidateIdentity checks what `linkerd check` checks of the identity:
// every part is PEM; the anchors are CA certificates with ECDSA P-256 or
// RSA keys; the issuer is an ECDSA P-256 CA certificate signed by one of
// the anchors; the key is the issuer certificate's; nothing is expired.
func ValidateIdentity(id *Identity, now time.Time) error {
	return validateIdentity(id, now, identitySources{
		anchors: "identityTrustAnchorsPEM",
		cert:    "identity.issuer.tls.crtPEM",
		key:     "identity.issuer.tls.keyPEM",
	})
}

func validateIdentity(id *Identity, now time.Time, src identitySources) error {
	anchors, err := parseCerts(id.TrustAnchorsPEM)
	if err != nil {
		return fmt.Errorf("%s: %w", src.anchors, err)
	}
	roots := x509.NewCertPool()
	for _, a := range anchors {
		if !a.IsCA {
			return fmt.Errorf("%s: %q is not a CA certificate: a trust anchor must be a CA", src.anchors, a.Subject.CommonName)
		}
		if err := checkAnchorKey(a); err != nil {
			return fmt.Errorf("%s: %q: %w", src.anchors, a.Subject.CommonName, err)
		}
		if err := checkValidity(a, now); err != nil {
			return fmt.Errorf("%s: %q %w", src.anchors, a.Subject.CommonName, err)
		}
		roots.AddCert(a)
	}

	chain, err := parseCerts(id.IssuerCertPEM)
	if err != nil {
		return fmt.Errorf("%s: %w", src.cert, err)
	}
	issuer := chain[0]
	if !issuer.IsCA {
		return fmt.Errorf("%s: %q is not a CA certificate: the issuer signs proxy certificates, create it with step's --profile intermediate-ca", src.cert, issuer.Subject.CommonName)
	}
	if !isP256(issuer.PublicKey) {
		return fmt.Errorf("%s: the issuer certificate must use an ECDSA P-256 key, as Linkerd's identity controller requires", src.cert)
	}
	if err := checkValidity(issuer, now); err != nil {
		return fmt.Errorf("%s: %q %w", src.cert, issuer.Subject.CommonName, err)
	}
	intermediates := x509.NewCertPool()
	for _, c := range chain[1:] {
		intermediates.AddCert(c)
	}
	_, err = issuer.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("%s: the issuer certificate is not signed by a trust anchor in %s: %w", src.cert, src.anchors, err)
	}

	key, err := parseKey(id.IssuerKeyPEM)
	if err != nil {
		return fmt.Errorf("%s: %w", src.key, err)
	}
	pub, ok := issuer.PublicKey.(*ecdsa.PublicKey)
	if !ok || !key.PublicKey.Equal(pub) {
		return fmt.Errorf("%s: the key does not match the issuer certificate in %s", src.key, src.cert)
	}
	return nil
}

// parseCerts decodes every CERTIFICATE block; anything else in the bundle
// is an error, since a key in a trust bundle would be published.
func parseCerts(data string) ([]*x509.Certificate, error) {
	rest := []byte(data)
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("found a PEM %q block, want only CERTIFICATE blocks", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("reading a certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("text after the last PEM certificate is not PEM")
	}
	return certs, nil
}

// parseKey reads an ECDSA private key in SEC 1 ("EC PRIVATE KEY", what
// step and openssl ecparam write) or PKCS #8 form.
func parseKey(data string) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(data))
	if block == nil {
		return nil, errors.New("no PEM private key found")
	}
	switch block.Type {
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("reading the EC private key: %w", err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("reading the PKCS #8 private key: %w", err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("the key is %T, want an ECDSA P-256 key", k)
		}
		return ek, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("the key is encrypted: write it without a password (step --no-password --insecure)")
	default:
		return nil, fmt.Errorf("found a PEM %q block, want an EC PRIVATE KEY", block.Type)
	}
}

func isP256(pub any) bool {
	k, ok := pub.(*ecdsa.PublicKey)
	return ok && k.Curve == elliptic.P256()
}

// checkAnchorKey accepts what `linkerd check` accepts for trust anchors.
func checkAnchorKey(c *x509.Certificate) error {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("an ECDSA %s key: Linkerd supports ECDSA P-256 (recommended) or RSA trust anchors", k.Curve.Params().Name)
		}
	case *rsa.PublicKey:
	default:
		return fmt.Errorf("a %T key: Linkerd supports ECDSA P-256 (recommended) or RSA trust anchors", k)
	}
	return nil
}

func checkValidity(c *x509.Certificate, now time.Time) error {
	if now.After(c.NotAfter) {
		return fmt.Errorf("expired on %s", c.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Add(clockSkew).Before(c.NotBefore) {
		return fmt.Errorf("is not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}
