package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/webhook"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// The webhook binary starts with generated certificates, is registered with a
// url: on loopback, and sees an object created through the real apiserver.
func TestWebhookReceivesAdmissionRequests(t *testing.T) {
	ctx := t.Context()
	client := kubeClient(t)

	ca, err := certs.NewCA("mesh-webhook-e2e-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wh := startWebhook(t, ca)
	if !strings.Contains(wh.log.String(), "every admission request is allowed") {
		t.Errorf("startup log does not say that every request is allowed:\n%s", wh.log.String())
	}

	const ns, probeLabel = "webhook-e2e", "kubectl-mesh.io/e2e-probe"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	registerWebhook(t, client, wh.port, ca.CertPEM, probeLabel)

	// The apiserver picks up a new webhook configuration asynchronously, so
	// create probes until one reaches the webhook.
	var seen string
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		name := fmt.Sprintf("probe-%d", time.Now().UnixNano())
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{probeLabel: "true"}}}
		if _, err := client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			return false, fmt.Errorf("creating %s: %w", name, err)
		}
		if admissionLogged(wh.log.String(), "CREATE", "ConfigMap", ns, name) {
			seen = name
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no probe ConfigMap reached the webhook: %v\nwebhook log:\n%s", err, wh.log.String())
	}
	t.Logf("the webhook admitted ConfigMap %s/%s", ns, seen)

	if got := scrape(t, wh.metricsPort); !regexp.MustCompile(`controller_runtime_webhook_requests_total\{code="200",webhook="/validate"\} [1-9]`).MatchString(got) {
		t.Errorf("/metrics does not count the admitted request:\n%s", grep(got, "controller_runtime_webhook_requests_total"))
	}

	// Negative control: with the webhook stopped, failurePolicy Fail makes
	// the apiserver refuse the same kind of object, so the apiserver really
	// calls the webhook rather than the test passing without it.
	wh.stop(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "probe-after-stop", Namespace: ns, Labels: map[string]string{probeLabel: "true"}}}
	_, err = client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "failed calling webhook") {
		t.Fatalf("create with the webhook stopped: got %v, want a 'failed calling webhook' error", err)
	}
}

type webhookProcess struct {
	cmd         *exec.Cmd
	log         *syncBuffer
	port        int
	metricsPort int
}

func startWebhook(t *testing.T, ca *certs.CA) *webhookProcess {
	t.Helper()
	serving, err := ca.IssueServing([]string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certDir := t.TempDir()
	for name, data := range map[string][]byte{"tls.crt": serving.CertPEM, "tls.key": serving.KeyPEM} {
		if err := os.WriteFile(filepath.Join(certDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	wh := &webhookProcess{log: &syncBuffer{}, port: freePort(t), metricsPort: freePort(t)}
	healthPort := freePort(t)
	wh.cmd = exec.Command(filepath.Join(binDir, "mesh-webhook"),
		"--kubeconfig", cluster.Kubeconfig,
		"--cert-dir", certDir,
		"--host", "127.0.0.1",
		"--port", fmt.Sprint(wh.port),
		"--metrics-bind-address", loopback(wh.metricsPort),
		"--health-probe-bind-address", loopback(healthPort),
	)
	wh.cmd.Stdout, wh.cmd.Stderr = wh.log, wh.log
	if err := wh.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.stop(t) })

	// Ready means the TLS server is up; check that it speaks TLS 1.2+ with
	// the certificate it was given and no HTTP/2.
	err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		resp, err := http.Get("http://" + loopback(healthPort) + "/readyz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("webhook not ready: %v\n%s", err, wh.log.String())
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.CertPEM)
	conn, err := tls.Dial("tcp", loopback(wh.port), &tls.Config{RootCAs: roots, NextProtos: []string{"h2", "http/1.1"}, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS 1.2 handshake with the webhook: %v", err)
	}
	if proto := conn.ConnectionState().NegotiatedProtocol; proto == "h2" {
		t.Errorf("webhook negotiated HTTP/2, which is off by default")
	}
	conn.Close()
	if _, err := tls.Dial("tcp", loopback(wh.port), &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Errorf("webhook accepted TLS 1.1")
	}
	return wh
}

func (wh *webhookProcess) stop(t *testing.T) {
	if wh.cmd.ProcessState != nil {
		return
	}
	_ = wh.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- wh.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = wh.cmd.Process.Kill()
		<-done
		t.Errorf("webhook did not stop within 15s of SIGTERM")
	}
}

func registerWebhook(t *testing.T, client kubernetes.Interface, port int, caPEM []byte, label string) {
	t.Helper()
	url := "https://" + loopback(port) + webhook.ValidatePath
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(5)
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "kubectl-mesh-e2e"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "validate.kubectl-mesh.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
			ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{label: "true"}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	if _, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(t.Context(), cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), cfg.Name, metav1.DeleteOptions{})
	})
}

// admissionLogged reports whether the webhook logged a request for the object.
func admissionLogged(log, operation, kind, namespace, name string) bool {
	for line := range strings.Lines(log) {
		if strings.Contains(line, `"admission request"`) &&
			strings.Contains(line, `"operation":"`+operation+`"`) &&
			strings.Contains(line, `"kind":"`+kind+`"`) &&
			strings.Contains(line, `"namespace":"`+namespace+`"`) &&
			strings.Contains(line, `"name":"`+name+`"`) {
			return true
		}
	}
	return false
}

func scrape(t *testing.T, port int) string {
	t.Helper()
	resp, err := http.Get("http://" + loopback(port) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func grep(text, substr string) string {
	var out []string
	for line := range strings.Lines(text) {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

func kubeClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	cfg, err := cluster.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}
