package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/webhook"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certrotate"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

const (
	certsNamespace  = "certs-e2e"
	certsConfigName = "kubectl-mesh-e2e-certs"
	certsProbeLabel = "kubectl-mesh.io/e2e-certs-probe"
	certsSecretName = "mesh-webhook-certs"
)

// The rotator, in-process against the real apiserver, creates the shared
// Secret, patches the caBundle, and rotates a serving certificate of a few
// seconds that controller-runtime's webhook server picks up without a
// restart; the apiserver keeps calling the webhook across the rotation, and
// a second replica agrees on the CA.
func TestCertRotation(t *testing.T) {
	ctx := t.Context()
	kube := harness.KubeClient(t)
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: certsNamespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	port := harness.FreePort(t)
	certsRegisterWebhook(t, kube, port)
	restCfg := harness.RESTConfig(t)
	c, err := client.NewWithWatch(restCfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}

	// The order of the webhook binary: certificate files first, because the
	// webhook server refuses to start without them.
	dirs := t.TempDir()
	firstDir, secondDir := filepath.Join(dirs, "first"), filepath.Join(dirs, "second")
	first := certsNewRotator(t, c, "first", firstDir)
	bootCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := first.EnsureCertFiles(bootCtx); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	certsStartWebhookServer(t, port, firstDir, &calls)
	certsRun(t, first)
	if err := first.ReadyChecker()(nil); err != nil {
		t.Fatalf("not ready after Ready(): %v", err)
	}

	bundle := certsCABundle(t, kube)
	ca := certsFirstCert(t, bundle)
	initial := certsServedSerial(t, port, bundle)
	if fileSerial := certsFirstCert(t, certsReadFile(t, firstDir)).SerialNumber; fileSerial.Cmp(initial) != 0 {
		t.Fatalf("the server serves serial %x, the file holds %x", initial, fileSerial)
	}
	certsAdmitProbe(t, kube, &calls, "before-rotation")

	// The serving certificate lives 8 seconds: a new one must be served,
	// still trusted by the caBundle, by the same process.
	var rotated *big.Int
	certsEventually(t, "the webhook server serves a renewed certificate", func() bool {
		rotated = certsServedSerial(t, port, certsCABundle(t, kube))
		return rotated.Cmp(initial) != 0
	})
	t.Logf("served serial %x, then %x after rotation", initial, rotated)
	certsAdmitProbe(t, kube, &calls, "after-rotation")

	// A second replica adopts the Secret: same CA, and both replicas end up
	// serving the Secret's certificate through the next rotations.
	second := certsNewRotator(t, c, "second", secondDir)
	certsRun(t, second)
	certsEventually(t, "both replicas write the Secret's certificate", func() bool {
		secret, err := kube.CoreV1().Secrets(certsNamespace).Get(ctx, certsSecretName, metav1.GetOptions{})
		if err != nil {
			return false
		}
		a, b := certsReadFile(t, firstDir), certsReadFile(t, secondDir)
		return bytes.Equal(a, secret.Data["tls.crt"]) && bytes.Equal(b, secret.Data["tls.crt"])
	})
	// Both replicas now race for the next renewal through the apiserver's
	// optimistic concurrency; they still end up with one certificate.
	secret, err := kube.CoreV1().Secrets(certsNamespace).Get(ctx, certsSecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	joined := certsFirstCert(t, secret.Data["tls.crt"])
	certsEventually(t, "a renewal with both replicas running, served by both", func() bool {
		secret, err = kube.CoreV1().Secrets(certsNamespace).Get(ctx, certsSecretName, metav1.GetOptions{})
		if err != nil {
			return false
		}
		a, b := certsReadFile(t, firstDir), certsReadFile(t, secondDir)
		return !certsFirstCert(t, secret.Data["tls.crt"]).Equal(joined) &&
			bytes.Equal(a, secret.Data["tls.crt"]) && bytes.Equal(b, secret.Data["tls.crt"])
	})
	if !certsFirstCert(t, secret.Data["ca.crt"]).Equal(ca) {
		t.Error("the CA changed although it had an hour left")
	}
	for _, dir := range []string{firstDir, secondDir} {
		if err := certsVerify(dir, bundle); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}

	// A Helm upgrade that resets the caBundle is undone.
	vwc, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, certsConfigName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vwc.Webhooks[0].ClientConfig.CABundle = nil
	if _, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Update(ctx, vwc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	certsEventually(t, "the caBundle is patched again", func() bool {
		got := certsCABundle(t, kube)
		return len(got) > 0 && certsFirstCert(t, got).Equal(ca)
	})
	certsAdmitProbe(t, kube, &calls, "after-reset")
}

func certsNewRotator(t *testing.T, c client.WithWatch, name, certDir string) *certrotate.Rotator {
	t.Helper()
	r, err := certrotate.New(certrotate.Config{
		Client:            c,
		Namespace:         certsNamespace,
		SecretName:        certsSecretName,
		ServiceName:       "mesh-webhook",
		ExtraHosts:        []string{"127.0.0.1"}, // registered by url: on loopback
		WebhookConfigName: certsConfigName,
		CertDir:           certDir,
		CAValidity:        time.Hour,
		ServingValidity:   8 * time.Second,
		CheckInterval:     200 * time.Millisecond,
		Log:               testr.New(t).WithName(name),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// certsRun starts r until the test ends and waits for Ready.
func certsRun(t *testing.T, r *certrotate.Rotator) {
	t.Helper()
	harness.Start(t, "rotator", r.Start)
	select {
	case <-r.Ready():
	case <-time.After(30 * time.Second):
		t.Fatalf("rotator not ready: %v", r.ReadyChecker()(nil))
	}
}

// certsStartWebhookServer runs controller-runtime's webhook server, which
// reloads its certificate files through certwatcher, with a handler that
// allows and counts.
func certsStartWebhookServer(t *testing.T, port int, certDir string, calls *atomic.Int64) {
	t.Helper()
	srv := crwebhook.NewServer(crwebhook.Options{Host: "127.0.0.1", Port: port, CertDir: certDir})
	srv.Register(webhook.ValidatePath, &admission.Webhook{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
		calls.Add(1)
		return admission.Allowed("")
	})})
	harness.Start(t, "webhook server", srv.Start)
}

// certsRegisterWebhook registers a webhook that only objects of this test
// match: ConfigMaps with the probe label in the test's namespace. It starts
// without a caBundle; failurePolicy Fail makes a TLS failure visible.
func certsRegisterWebhook(t *testing.T, kube kubernetes.Interface, port int) {
	t.Helper()
	url := "https://" + harness.Loopback(port) + webhook.ValidatePath
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(5)
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: certsConfigName},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "certs.e2e.kubectl-mesh.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": certsNamespace}},
			ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{certsProbeLabel: "true"}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	createWebhookConfiguration(t, kube, cfg)
}

// certsAdmitProbe creates labelled ConfigMaps until the apiserver's call to
// the webhook, over TLS verified with the caBundle, admits one.
func certsAdmitProbe(t *testing.T, kube kubernetes.Interface, calls *atomic.Int64, stage string) {
	t.Helper()
	var lastErr error
	n := 0
	certsEventually(t, "the apiserver calls the webhook "+stage, func() bool {
		n++
		before := calls.Load()
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("probe-%s-%d", stage, n), Namespace: certsNamespace, Labels: map[string]string{certsProbeLabel: "true"}}}
		_, lastErr = kube.CoreV1().ConfigMaps(certsNamespace).Create(t.Context(), cm, metav1.CreateOptions{})
		return lastErr == nil && calls.Load() > before
	})
	if lastErr != nil {
		t.Fatalf("last probe: %v", lastErr)
	}
}

func certsCABundle(t *testing.T, kube kubernetes.Interface) []byte {
	t.Helper()
	vwc, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(t.Context(), certsConfigName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return vwc.Webhooks[0].ClientConfig.CABundle
}

// certsServedSerial dials the webhook server, verifying its certificate for
// 127.0.0.1 against bundle, and returns the certificate's serial number.
func certsServedSerial(t *testing.T, port int, bundle []byte) *big.Int {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(bundle) {
		t.Fatalf("caBundle does not parse: %q", bundle)
	}
	var serial *big.Int
	certsEventually(t, "a verified TLS handshake with the webhook server", func() bool {
		conn, err := tls.Dial("tcp", harness.Loopback(port), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
		if err != nil {
			t.Logf("handshake: %v", err)
			return false
		}
		defer func() { _ = conn.Close() }()
		serial = conn.ConnectionState().PeerCertificates[0].SerialNumber
		return true
	})
	return serial
}

func certsReadFile(t *testing.T, dir string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// certsVerify checks that dir's tls.crt matches its key and chains to bundle
// for the Service's names and 127.0.0.1.
func certsVerify(dir string, bundle []byte) error {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(bundle)
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return err
	}
	for _, name := range []string{"mesh-webhook." + certsNamespace + ".svc", "mesh-webhook." + certsNamespace + ".svc.cluster.local", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			return fmt.Errorf("verifying for %s: %w", name, err)
		}
	}
	return nil
}

func certsFirstCert(t *testing.T, pemBytes []byte) *x509.Certificate {
	t.Helper()
	chain, err := certs.ParseCertificates(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	return chain[0]
}

func certsEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
