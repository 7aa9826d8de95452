package linkerd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeIdentity writes id's parts to files and returns their paths.
func writeIdentity(t *testing.T, id *Identity) (anchors, cert, key string) {
	t.Helper()
	dir := t.TempDir()
	anchors, cert, key = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "issuer.crt"), filepath.Join(dir, "issuer.key")
	for path, data := range map[string]string{anchors: id.TrustAnchorsPEM, cert: id.IssuerCertPEM, key: id.IssuerKeyPEM} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return anchors, cert, key
}

func TestLoadIdentity(t *testing.T) {
	now := time.Now()
	good, err := GenerateIdentity(now, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := GenerateIdentity(now, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := GenerateIdentity(now.Add(-48*time.Hour), 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		id   Identity
		// wantErr are substrings of the error; none means success.
		wantErr []string
	}{
		{name: "good", id: *good},
		{name: "anchor bundle with two anchors", id: Identity{TrustAnchorsPEM: other.TrustAnchorsPEM + good.TrustAnchorsPEM, IssuerCertPEM: good.IssuerCertPEM, IssuerKeyPEM: good.IssuerKeyPEM}},
		{
			name:    "key of another issuer",
			id:      Identity{TrustAnchorsPEM: good.TrustAnchorsPEM, IssuerCertPEM: good.IssuerCertPEM, IssuerKeyPEM: other.IssuerKeyPEM},
			wantErr: []string{FlagIssuerKey, "does not match the issuer certificate"},
		},
		{
			name:    "issuer not signed by the anchors",
			id:      Identity{TrustAnchorsPEM: good.TrustAnchorsPEM, IssuerCertPEM: other.IssuerCertPEM, IssuerKeyPEM: other.IssuerKeyPEM},
			wantErr: []string{FlagIssuerCert, "not signed by a trust anchor in " + FlagTrustAnchors},
		},
		{
			name:    "anchors not PEM",
			id:      Identity{TrustAnchorsPEM: "not a certificate", IssuerCertPEM: good.IssuerCertPEM, IssuerKeyPEM: good.IssuerKeyPEM},
			wantErr: []string{FlagTrustAnchors, "no PEM certificate"},
		},
		{
			name:    "key in the anchor bundle",
			id:      Identity{TrustAnchorsPEM: good.TrustAnchorsPEM + good.IssuerKeyPEM, IssuerCertPEM: good.IssuerCertPEM, IssuerKeyPEM: good.IssuerKeyPEM},
			wantErr: []string{FlagTrustAnchors, `"EC PRIVATE KEY" block`},
		},
		{
			name:    "certificate not PEM",
			id:      Identity{TrustAnchorsPEM: good.TrustAnchorsPEM, IssuerCertPEM: "garbage", IssuerKeyPEM: good.IssuerKeyPEM},
			wantErr: []string{FlagIssuerCert, "no PEM certificate"},
		},
		{
			name:    "key not PEM",
			id:      Identity{TrustAnchorsPEM: good.TrustAnchorsPEM, IssuerCertPEM: good.IssuerCertPEM, IssuerKeyPEM: "garbage"},
			wantErr: []string{FlagIssuerKey, "no PEM private key"},
		},
		{
			name:    "issuer given as anchor is not its own anchor",
			id:      Identity{TrustAnchorsPEM: good.IssuerCertPEM, IssuerCertPEM: good.TrustAnchorsPEM, IssuerKeyPEM: good.IssuerKeyPEM},
			wantErr: []string{FlagIssuerCert},
		},
		{
			name:    "expired issuer",
			id:      *expired,
			wantErr: []string{FlagIssuerCert, "expired on"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, c, k := writeIdentity(t, &tt.id)
			got, err := LoadIdentity(a, c, k, now)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("LoadIdentity: %v", err)
				}
				if got.TrustAnchorsPEM != tt.id.TrustAnchorsPEM || got.IssuerCertPEM != tt.id.IssuerCertPEM || got.IssuerKeyPEM != tt.id.IssuerKeyPEM {
					t.Error("LoadIdentity did not return the files' contents")
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadIdentity succeeded, want an error with %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "PRIVATE KEY-----") || strings.Contains(err.Error(), strings.TrimSpace(good.IssuerKeyPEM)[30:60]) {
				t.Errorf("error %q shows key material", err)
			}
		})
	}
}

func TestLoadIdentityNeedsAllThreeFiles(t *testing.T) {
	id, err := GenerateIdentity(time.Now(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, c, _ := writeIdentity(t, id)
	_, err = LoadIdentity(a, c, "", time.Now())
	if err == nil || !strings.Contains(err.Error(), FlagIssuerKey+" missing") {
		t.Fatalf("err = %v, want it to name %s as missing", err, FlagIssuerKey)
	}
	_, err = LoadIdentity(a, c, filepath.Join(t.TempDir(), "absent.key"), time.Now())
	if err == nil || !strings.HasPrefix(err.Error(), FlagIssuerKey+":") {
		t.Fatalf("err = %v, want it to start with %s", err, FlagIssuerKey)
	}
}
