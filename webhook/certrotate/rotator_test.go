package certrotate

import (
	"bytes"
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

func TestFirstSyncCreatesSecretFilesAndCABundle(t *testing.T) {
	c := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	r := newTestRotator(t, c, clk)

	ready := r.ReadyChecker()
	if err := ready(nil); err == nil {
		t.Fatal("ready before the first sync")
	}
	mustSync(t, r)
	if err := ready(nil); err != nil {
		t.Fatalf("not ready after a sync: %v", err)
	}
	select {
	case <-r.Ready():
	default:
		t.Error("Ready() is not closed after a sync")
	}

	secret := getSecret(t, c)
	for _, k := range []string{"ca.crt", "ca.key", "tls.crt", "tls.key"} {
		if len(secret.Data[k]) == 0 {
			t.Errorf("Secret has no %s", k)
		}
	}
	if secret.Type != corev1.SecretTypeTLS {
		t.Errorf("Secret type %q, want %q", secret.Type, corev1.SecretTypeTLS)
	}
	certPEM, keyPEM := files(t, r)
	if !bytes.Equal(certPEM, secret.Data["tls.crt"]) || !bytes.Equal(keyPEM, secret.Data["tls.key"]) {
		t.Error("the files differ from the Secret")
	}
	if err := verifies(t, certPEM, secret.Data["ca.crt"], clk.Now()); err != nil {
		t.Errorf("serving certificate does not verify against ca.crt: %v", err)
	}
	for _, wh := range getWebhookConfig(t, c).Webhooks {
		if !bytes.Equal(wh.ClientConfig.CABundle, secret.Data["ca.crt"]) {
			t.Errorf("webhook %s: caBundle is not ca.crt", wh.Name)
		}
	}
	cert := leaf(t, certPEM)
	if got := cert.NotAfter.Sub(clk.Now()); got != DefaultServingValidity {
		t.Errorf("serving certificate valid for %s, want %s", got, DefaultServingValidity)
	}
	if got := leaf(t, secret.Data["ca.crt"]).NotAfter.Sub(clk.Now()); got != DefaultCAValidity {
		t.Errorf("CA valid for %s, want %s", got, DefaultCAValidity)
	}
}

func TestSecondReplicaReusesTheSharedCertificates(t *testing.T) {
	c := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	first, second := newTestRotator(t, c, clk), newTestRotator(t, c, clk)
	mustSync(t, first)
	rv := getSecret(t, c).ResourceVersion

	mustSync(t, second)
	if got := getSecret(t, c).ResourceVersion; got != rv {
		t.Errorf("the second replica rewrote a valid Secret (resourceVersion %s -> %s)", rv, got)
	}
	c1, k1 := files(t, first)
	c2, k2 := files(t, second)
	if !bytes.Equal(c1, c2) || !bytes.Equal(k1, k2) {
		t.Error("the replicas serve different certificates")
	}
}

func TestRenewsTheServingCertificateBeforeExpiry(t *testing.T) {
	c := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	r := newTestRotator(t, c, clk)
	mustSync(t, r)
	before := getSecret(t, c)
	beforeCert, _ := files(t, r)

	// A year-long certificate is renewed with less than a third of it, about
	// 122 days, left.
	clk.Step(200 * 24 * time.Hour)
	mustSync(t, r)
	if after := getSecret(t, c); after.ResourceVersion != before.ResourceVersion {
		t.Fatal("renewed with 165 days left")
	}
	clk.Step(50 * 24 * time.Hour)
	mustSync(t, r)
	after := getSecret(t, c)
	afterCert, _ := files(t, r)
	if leaf(t, afterCert).SerialNumber.Cmp(leaf(t, beforeCert).SerialNumber) == 0 {
		t.Fatal("the serving certificate file did not change with 115 days left")
	}
	if !bytes.Equal(after.Data["ca.crt"], before.Data["ca.crt"]) || !bytes.Equal(after.Data["ca.key"], before.Data["ca.key"]) {
		t.Error("renewing the serving certificate replaced the CA")
	}
	if err := verifies(t, afterCert, after.Data["ca.crt"], clk.Now()); err != nil {
		t.Errorf("renewed certificate: %v", err)
	}
	if got := leaf(t, afterCert).NotAfter; !got.Equal(clk.Now().Add(DefaultServingValidity)) {
		t.Errorf("renewed certificate expires %s, want a year from now", got)
	}
}

func TestCARotationKeepsTheOldCATrustedUntilItExpires(t *testing.T) {
	c := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	r := newTestRotator(t, c, clk, func(cfg *Config) {
		cfg.CAValidity = 30 * 24 * time.Hour
		cfg.ServingValidity = 40 * 24 * time.Hour // capped at the CA's 30 days
	})
	mustSync(t, r)
	oldCert, _ := files(t, r)
	oldCA := leaf(t, getSecret(t, c).Data["ca.crt"])
	if !leaf(t, oldCert).NotAfter.Equal(oldCA.NotAfter) {
		t.Errorf("serving certificate expires %s, after its CA (%s)", leaf(t, oldCert).NotAfter, oldCA.NotAfter)
	}

	// 9 of 30 days left: the CA is due. The old serving certificate, which a
	// slower replica may still serve, must keep verifying.
	clk.Step(21 * 24 * time.Hour)
	mustSync(t, r)
	secret := getSecret(t, c)
	bundle, err := certs.ParseCertificates(secret.Data["ca.crt"])
	if err != nil {
		t.Fatal(err)
	}
	if len(bundle) != 2 || bundle[0].Equal(oldCA) || !bundle[1].Equal(oldCA) {
		t.Fatalf("ca.crt after rotation has %d CAs, want the new CA then the old one", len(bundle))
	}
	if got := getWebhookConfig(t, c).Webhooks[0].ClientConfig.CABundle; !bytes.Equal(got, secret.Data["ca.crt"]) {
		t.Error("caBundle does not hold both CAs")
	}
	newCert, _ := files(t, r)
	if err := verifies(t, newCert, certs.EncodeCertificates(bundle[:1]), clk.Now()); err != nil {
		t.Errorf("the new serving certificate is not signed by the new CA: %v", err)
	}
	// The old certificate was capped at its CA's expiry, 9 days from now.
	if err := verifies(t, oldCert, secret.Data["ca.crt"], clk.Now()); err != nil {
		t.Errorf("the old serving certificate is no longer trusted: %v", err)
	}

	// Once the old CA expired, nothing it signed is valid: it leaves.
	clk.Step(10 * 24 * time.Hour)
	mustSync(t, r)
	bundle, err = certs.ParseCertificates(getSecret(t, c).Data["ca.crt"])
	if err != nil {
		t.Fatal(err)
	}
	if len(bundle) != 1 || bundle[0].Equal(oldCA) {
		t.Errorf("ca.crt after the old CA expired has %d CAs, want only the new one", len(bundle))
	}
}

func TestReplacesAnInvalidSecret(t *testing.T) {
	now := testStart()
	ca, err := certs.NewCAAt("ca", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := certs.NewCAAt("other", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good, err := ca.IssueServingAt(testDNSNames, nil, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wrongNames, err := ca.IssueServingAt([]string{"other.mesh-system.svc"}, nil, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.IssueServingAt(testDNSNames, nil, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	data := func(caCert, caKey []byte, serving certs.Pair) map[string][]byte {
		return map[string][]byte{"ca.crt": caCert, "ca.key": caKey, "tls.crt": serving.CertPEM, "tls.key": serving.KeyPEM}
	}
	tests := []struct {
		name     string
		data     map[string][]byte
		keepsCA  bool
		keepsTLS bool
	}{
		{"valid", data(ca.CertPEM, ca.KeyPEM, good), true, true},
		{"empty", nil, false, false},
		{"garbage CA", data(garbage, ca.KeyPEM, good), false, false},
		{"CA key of another CA", data(ca.CertPEM, other.KeyPEM, good), false, false},
		{"garbage serving certificate", data(ca.CertPEM, ca.KeyPEM, certs.Pair{CertPEM: garbage, KeyPEM: good.KeyPEM}), true, false},
		{"serving key of another certificate", data(ca.CertPEM, ca.KeyPEM, certs.Pair{CertPEM: good.CertPEM, KeyPEM: foreign.KeyPEM}), true, false},
		{"serving certificate for other names", data(ca.CertPEM, ca.KeyPEM, wrongNames), true, false},
		{"serving certificate of another CA", data(ca.CertPEM, ca.KeyPEM, foreign), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(&corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: DefaultSecretName, Namespace: testNamespace},
				Data:       tt.data,
			})
			clk := clocktesting.NewFakeClock(now)
			r := newTestRotator(t, c, clk, func(cfg *Config) { cfg.CAValidity, cfg.ServingValidity = time.Hour, time.Hour })
			mustSync(t, r)

			got := getSecret(t, c)
			if err := verifies(t, got.Data["tls.crt"], got.Data["ca.crt"], clk.Now()); err != nil {
				t.Fatalf("Secret after the sync is not valid: %v", err)
			}
			if keeps := bytes.Equal(got.Data["ca.key"], ca.KeyPEM); keeps != tt.keepsCA {
				t.Errorf("kept the CA: %v, want %v", keeps, tt.keepsCA)
			}
			if keeps := bytes.Equal(got.Data["tls.crt"], good.CertPEM); keeps != tt.keepsTLS {
				t.Errorf("kept the serving certificate: %v, want %v", keeps, tt.keepsTLS)
			}
			certPEM, _ := files(t, r)
			if !bytes.Equal(certPEM, got.Data["tls.crt"]) {
				t.Error("the file is not the Secret's certificate")
			}
		})
	}
}

func TestRepatchesACABundleThatWasReset(t *testing.T) {
	c := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	r := newTestRotator(t, c, clk)
	mustSync(t, r)
	want := getSecret(t, c).Data["ca.crt"]

	// What a Helm upgrade with an empty caBundle in its template does.
	vwc := getWebhookConfig(t, c)
	vwc.Webhooks[1].ClientConfig.CABundle = nil
	if err := c.Update(context.Background(), vwc); err != nil {
		t.Fatal(err)
	}
	mustSync(t, r)
	for _, wh := range getWebhookConfig(t, c).Webhooks {
		if !bytes.Equal(wh.ClientConfig.CABundle, want) {
			t.Errorf("webhook %s: caBundle not patched again", wh.Name)
		}
	}
}

func TestNotReadyWithoutTheWebhookConfiguration(t *testing.T) {
	c := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	r := newTestRotator(t, c, clk, func(cfg *Config) { cfg.WebhookConfigName = "missing" })
	if err := r.sync(context.Background()); err == nil {
		t.Fatal("sync without the webhook configuration succeeded")
	}
	if err := r.ReadyChecker()(nil); err == nil {
		t.Error("ready although the caBundle could not be patched")
	}
	// The files are there: the webhook server can start meanwhile.
	files(t, r)
}

func TestEnsureCertFilesWritesFilesBeforeTheWebhookConfigurationExists(t *testing.T) {
	c := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	r := newTestRotator(t, c, clk, func(cfg *Config) { cfg.WebhookConfigName = "missing" })
	if err := r.EnsureCertFiles(context.Background()); err != nil {
		t.Fatal(err)
	}
	certPEM, _ := files(t, r)
	if err := verifies(t, certPEM, getSecret(t, c).Data["ca.crt"], clk.Now()); err != nil {
		t.Error(err)
	}
	if err := r.ReadyChecker()(nil); err == nil {
		t.Error("ready before the caBundle was patched")
	}
}
