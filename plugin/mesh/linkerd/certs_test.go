package linkerd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"testing"
	"time"
)

func TestGenerateIdentity(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name                   string
		issuerValidity         time.Duration
		wantAnchor, wantIssuer time.Duration
	}{
		{"defaults", 0, DefaultTrustAnchorValidity, DefaultIssuerValidity},
		{"issuer validity as requested", 48 * time.Hour, DefaultTrustAnchorValidity, 48 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := GenerateIdentity(now, 0, tt.issuerValidity)
			if err != nil {
				t.Fatal(err)
			}
			anchors, err := parseCerts(id.TrustAnchorsPEM)
			if err != nil || len(anchors) != 1 {
				t.Fatalf("trust anchors: %d certificates, %v", len(anchors), err)
			}
			chain, err := parseCerts(id.IssuerCertPEM)
			if err != nil {
				t.Fatal(err)
			}
			anchor, issuer := anchors[0], chain[0]

			checkCA(t, "trust anchor", anchor, TrustAnchorName, now, tt.wantAnchor)
			checkCA(t, "issuer", issuer, IssuerName, now, tt.wantIssuer)
			if anchor.MaxPathLen != 1 {
				t.Errorf("trust anchor pathlen %d, want 1 (step's root-ca profile)", anchor.MaxPathLen)
			}
			if issuer.MaxPathLen != 0 || !issuer.MaxPathLenZero {
				t.Errorf("issuer pathlen %d (zero %v), want 0: it signs only proxy certificates", issuer.MaxPathLen, issuer.MaxPathLenZero)
			}
			if issuer.Issuer.CommonName != TrustAnchorName {
				t.Errorf("issuer's issuer %q, want %q", issuer.Issuer.CommonName, TrustAnchorName)
			}

			roots := x509.NewCertPool()
			roots.AddCert(anchor)
			// Linkerd verifies the issuer for its DNS name.
			if _, err := issuer.Verify(x509.VerifyOptions{Roots: roots, DNSName: IssuerName, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				t.Errorf("issuer does not chain to the trust anchor: %v", err)
			}
			key, err := parseKey(id.IssuerKeyPEM)
			if err != nil {
				t.Fatal(err)
			}
			if !key.PublicKey.Equal(issuer.PublicKey) {
				t.Error("the issuer key is not the issuer certificate's")
			}
			if err := ValidateIdentity(id, now); err != nil {
				t.Errorf("ValidateIdentity of a generated identity: %v", err)
			}
		})
	}
}

func checkCA(t *testing.T, what string, c *x509.Certificate, cn string, now time.Time, validity time.Duration) {
	t.Helper()
	if c.Subject.CommonName != cn {
		t.Errorf("%s CN %q, want %q", what, c.Subject.CommonName, cn)
	}
	if !c.IsCA || !c.BasicConstraintsValid {
		t.Errorf("%s is not a CA", what)
	}
	if c.KeyUsage&x509.KeyUsageCertSign == 0 || c.KeyUsage&x509.KeyUsageCRLSign == 0 {
		t.Errorf("%s key usage %v, want cert sign and CRL sign", what, c.KeyUsage)
	}
	k, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		t.Errorf("%s key %T, want ECDSA P-256", what, c.PublicKey)
	}
	if c.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("%s signed with %v, want ECDSA with SHA-256", what, c.SignatureAlgorithm)
	}
	if !c.NotAfter.Equal(now.Add(validity)) {
		t.Errorf("%s NotAfter %v, want %v", what, c.NotAfter, now.Add(validity))
	}
	if c.NotBefore.After(now) {
		t.Errorf("%s NotBefore %v after now %v", what, c.NotBefore, now)
	}
}

func TestIdentityDoesNotPrintTheKey(t *testing.T) {
	id, err := GenerateIdentity(time.Now(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{id.String(), id.GoString()} {
		if s != "linkerd.Identity{...}" {
			t.Errorf("formatted identity %q shows its fields", s)
		}
	}
}
