package certrotate

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

const (
	testNamespace  = "mesh-system"
	testService    = "mesh-webhook"
	testConfigName = "kubectl-mesh"
)

var testDNSNames = []string{"mesh-webhook.mesh-system.svc", "mesh-webhook.mesh-system.svc.cluster.local"}

func testStart() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }

// testWebhookConfig has two webhooks, both of which need the caBundle.
func testWebhookConfig() *admissionregistrationv1.ValidatingWebhookConfiguration {
	svc := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: testNamespace, Name: testService, Path: &path}}
	}
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: testConfigName},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			{Name: "validate.kubectl-mesh.io", ClientConfig: svc("/validate")},
			{Name: "policies.kubectl-mesh.io", ClientConfig: svc("/validate-policies")},
		},
	}
}

func newTestClient(objs ...client.Object) client.WithWatch {
	return fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).
		WithObjects(append([]client.Object{testWebhookConfig()}, objs...)...).Build()
}

func newTestRotator(t *testing.T, c client.WithWatch, clk *clocktesting.FakeClock, edit ...func(*Config)) *Rotator {
	t.Helper()
	cfg := Config{
		Client:            c,
		Namespace:         testNamespace,
		ServiceName:       testService,
		WebhookConfigName: testConfigName,
		CertDir:           filepath.Join(t.TempDir(), "certs"),
		Clock:             clk,
	}
	for _, e := range edit {
		e(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func getSecret(t *testing.T, c client.Client) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: DefaultSecretName}, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func getWebhookConfig(t *testing.T, c client.Client) *admissionregistrationv1.ValidatingWebhookConfiguration {
	t.Helper()
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: testConfigName}, v); err != nil {
		t.Fatal(err)
	}
	return v
}

// files returns the serving certificate and key the rotator wrote.
func files(t *testing.T, r *Rotator) (certPEM, keyPEM []byte) {
	t.Helper()
	certPEM, err := os.ReadFile(filepath.Join(r.cfg.CertDir, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err = os.ReadFile(filepath.Join(r.cfg.CertDir, "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM
}

func leaf(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	chain, err := certs.ParseCertificates(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	return chain[0]
}

// verifies reports whether certPEM is a serving certificate for every test
// DNS name that chains to one of the CAs of bundle at time now.
func verifies(t *testing.T, certPEM, bundle []byte, now time.Time) error {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(bundle) {
		t.Fatalf("CA bundle does not parse: %q", bundle)
	}
	for _, name := range testDNSNames {
		if _, err := leaf(t, certPEM).Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			return err
		}
	}
	return nil
}

func mustSync(t *testing.T, r *Rotator) {
	t.Helper()
	if err := r.sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}
