package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

func TestLoadCASignsLikeTheOriginal(t *testing.T) {
	ca, err := NewCA("ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The CA's certificate may be followed by older CAs in a bundle.
	loaded, err := LoadCA(append(append([]byte{}, ca.CertPEM...), other.CertPEM...), ca.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Certificate().SerialNumber.Cmp(ca.Certificate().SerialNumber) != 0 {
		t.Fatal("loaded a different CA certificate")
	}
	if string(loaded.CertPEM) != string(ca.CertPEM) {
		t.Error("CertPEM of the loaded CA holds more than its own certificate")
	}
	pair, err := loaded.IssueServing([]string{"svc.ns.svc"}, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	if _, err := parse(t, pair.CertPEM).Verify(x509.VerifyOptions{DNSName: "svc.ns.svc", Roots: roots}); err != nil {
		t.Errorf("certificate issued by the loaded CA does not verify against the original: %v", err)
	}
}

func TestLoadCARefusesBadInput(t *testing.T) {
	ca, err := NewCA("ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := ca.IssueServing([]string{"svc"}, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cert    []byte
		key     []byte
		wantErr string
	}{
		{"empty", nil, nil, "no PEM certificate"},
		{"garbage certificate", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), ca.KeyPEM, "parsing certificate 1"},
		{"key of another CA", ca.CertPEM, other.KeyPEM, "does not belong"},
		{"not a CA", serving.CertPEM, serving.KeyPEM, "is not a CA"},
		{"missing key", ca.CertPEM, nil, "no PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadCA(tt.cert, tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadCAReadsPKCS8Keys(t *testing.T) {
	ca, err := NewCA("ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCA(ca.CertPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		t.Errorf("PKCS #8 key: %v", err)
	}
	rsaLike, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err = x509.MarshalPKCS8PrivateKey(rsaLike)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCA(ca.CertPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err == nil {
		t.Error("a key of another curve was accepted")
	}
}

func TestEncodeCertificatesRoundTrips(t *testing.T) {
	a, err := NewCA("a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCA("b", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	bundle := EncodeCertificates([]*x509.Certificate{a.Certificate(), b.Certificate()})
	got, err := ParseCertificates(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Subject.CommonName != "a" || got[1].Subject.CommonName != "b" {
		t.Errorf("round trip lost the order or a certificate: %d certificates", len(got))
	}
}
