package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"
	"time"
)

func TestServingCertificateChainsToCA(t *testing.T) {
	ca, err := NewCA("kubectl-mesh-webhook-ca", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := ca.IssueServing([]string{"mesh-webhook.mesh-system.svc"}, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(serving.CertPEM, serving.KeyPEM); err != nil {
		t.Fatalf("serving pair does not load: %v", err)
	}

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca.CertPEM) {
		t.Fatal("CA PEM does not parse")
	}
	cert := parse(t, serving.CertPEM)
	for _, name := range []string{"mesh-webhook.mesh-system.svc", "127.0.0.1"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("verifying for %s: %v", name, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "other.example", Roots: roots}); err == nil {
		t.Error("certificate verified for a name it was not issued for")
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("serving key is %T, want ECDSA P-256", cert.PublicKey)
	}
	if got := time.Until(cert.NotAfter); got > time.Hour || got < 59*time.Minute {
		t.Errorf("serving certificate expires in %s, want about 1h", got)
	}
	if !parse(t, ca.CertPEM).IsCA {
		t.Error("CA certificate is not a CA")
	}
}

func TestIssueServingNeedsAName(t *testing.T) {
	ca, err := NewCA("ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.IssueServing(nil, nil, time.Hour); err == nil {
		t.Fatal("want an error for a certificate without names")
	}
}

func parse(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestIssueServingAtFollowsTheGivenClock(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ca, err := NewCAAt("ca", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		validity      time.Duration
		wantNotBefore time.Time
		wantNotAfter  time.Time
	}{
		{"long-lived certificates are backdated a minute", time.Hour, now.Add(-time.Minute), now.Add(time.Hour)},
		{"short-lived certificates are backdated a tenth of their validity", 10 * time.Second, now.Add(-time.Second), now.Add(10 * time.Second)},
		{"a certificate never outlives its CA", 48 * time.Hour, now.Add(-time.Minute), now.Add(24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pair, err := ca.IssueServingAt([]string{"svc.ns.svc"}, nil, now, tt.validity)
			if err != nil {
				t.Fatal(err)
			}
			cert := parse(t, pair.CertPEM)
			if !cert.NotBefore.Equal(tt.wantNotBefore) || !cert.NotAfter.Equal(tt.wantNotAfter) {
				t.Errorf("valid %s to %s, want %s to %s", cert.NotBefore, cert.NotAfter, tt.wantNotBefore, tt.wantNotAfter)
			}
		})
	}
	if _, err := ca.IssueServingAt([]string{"svc.ns.svc"}, nil, now, 0); err == nil {
		t.Error("want an error for a zero validity")
	}
}
