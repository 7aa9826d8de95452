package certs

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// LoadCA rebuilds a CA from PEM, for example from a Secret written by another
// replica. certPEM may be a bundle: its first certificate is the one keyPEM
// belongs to; the rest are ignored.
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	chain, err := ParseCertificates(certPEM)
	if err != nil {
		return nil, fmt.Errorf("loading the CA certificate: %w", err)
	}
	cert := chain[0]
	if !cert.IsCA {
		return nil, fmt.Errorf("loading the CA certificate: %q is not a CA", cert.Subject.CommonName)
	}
	key, err := parseECKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading the CA key: %w", err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("loading the CA: the key does not belong to the certificate")
	}
	pair, err := encode(cert.Raw, key)
	if err != nil {
		return nil, err
	}
	return &CA{Pair: pair, cert: cert, key: key}, nil
}

// ParseCertificates returns every CERTIFICATE block of a PEM bundle, in
// order. Other block types are skipped; a bundle without certificates or
// with one that does not parse is an error.
func ParseCertificates(bundle []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := bundle; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate %d: %w", len(out)+1, err)
		}
		out = append(out, cert)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("parsing certificates: no PEM certificate found")
	}
	return out, nil
}

// EncodeCertificates writes certificates as one PEM bundle.
func EncodeCertificates(certs []*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// parseECKey accepts the SEC 1 form this package writes and PKCS #8.
func parseECKey(keyPEM []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, fmt.Errorf("no PEM block found")
	}
	switch block.Type {
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		ec, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("the key is %T, want ECDSA", key)
		}
		return ec, nil
	default:
		return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
	}
}
