package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/webhook"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// The namespaces of TestWebhookBinary: the webhook reviews only webhookNS,
// so the other tests of the package are never judged by it.
const (
	webhookNS       = "webhook-e2e"
	webhookSystemNS = "webhook-e2e-system"
)

// webhookCustomPolicy denies VirtualServices labelled team=blocked.
const webhookCustomPolicy = `# METADATA
# title: Blocked team
# description: The blocked team may not route traffic.
# custom:
#   id: ACME200
#   severity: error
#   enforcement: deny
#   kinds: [networking.istio.io/VirtualService]
package acme.blocked

import rego.v1

violation contains {"msg": "team blocked may not route traffic"} if {
	input.review.object.metadata.labels.team == "blocked"
}
`

// TestWebhookBinary runs the mesh-webhook binary as a local process with
// the full library, registered by url on loopback, and drives it through
// kubectl: deny, warn, custom policies from ConfigMaps without a restart, a
// bad policy refused while the old set keeps working, the background audit
// of objects that existed before the webhook, and a graceful shutdown under
// load that loses no accepted request.
func TestWebhookBinary(t *testing.T) {
	ctx := t.Context()
	client := harness.KubeClient(t)
	for _, ns := range []string{webhookNS, webhookSystemNS} {
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	harness.Must(t, harness.KubectlStdin(t, virtualServiceCRD, "apply", "-f", "-"))
	harness.Must(t, harness.Kubectl(t, "wait", "--for=condition=Established", "--timeout=30s", "crd/virtualservices.networking.istio.io"))
	auditInstallCRDs(t)
	// A violation that exists before the webhook: only the audit sees it.
	harness.Must(t, harness.KubectlStdin(t, webhookVirtualService("legacy", "gone", nil), "apply", "-f", "-"))

	ca, err := certs.NewCA("mesh-webhook-e2e-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wh := startWebhook(t, ca, "--namespace="+webhookSystemNS, "--audit-interval=2s")
	registerWebhook(t, client, wh.Port, ca.CertPEM)

	// The apiserver picks the configuration up asynchronously: retry a
	// VirtualService the library denies until the webhook answers.
	zeroWeights := webhookVirtualService("zero-weights", "ratings", map[string]any{"weights": "zero"})
	var stderr string
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		r := harness.KubectlStdin(t, zeroWeights, "apply", "-f", "-")
		stderr = r.Stderr
		return r.Code != 0, nil
	})
	if err != nil {
		t.Fatalf("the webhook never denied a VirtualService whose weights sum to 0: %v\nwebhook log:\n%s", err, wh.Log.String())
	}
	if !strings.Contains(stderr, `denied the request: MESH1115: spec.http[0].route has 2 destinations`) {
		t.Errorf("deny message does not lead with the policy ID:\n%s", stderr)
	}

	t.Run("warn policy printed by kubectl", func(t *testing.T) {
		r := harness.KubectlStdin(t, webhookVirtualService("no-service", "ratings", nil), "apply", "-f", "-")
		if r.Code != 0 {
			t.Fatalf("a warn policy refused the object: %v", r)
		}
		if stderr := r.Stderr; !strings.Contains(stderr, `Warning: MESH1101: host "ratings" matches no Service or ServiceEntry`) {
			t.Errorf("kubectl printed no MESH1101 warning:\n%s", stderr)
		}
	})

	t.Run("custom policy ConfigMap takes effect without a restart", func(t *testing.T) {
		harness.Must(t, harness.KubectlStdin(t, webhookPolicyConfigMap("acme", "blocked.rego", webhookCustomPolicy), "apply", "-f", "-"))
		blocked := webhookVirtualService("blocked", "ratings", map[string]any{"team": "blocked"})
		webhookWaitDenied(t, blocked, "ACME200: team blocked may not route traffic")
	})

	t.Run("bad custom policy refused, the old set stays", func(t *testing.T) {
		broken := strings.Replace(webhookCustomPolicy, "package acme.blocked", "package acme.broken", 1)
		broken = strings.Replace(broken, "ACME200", "ACME201", 1)
		broken = strings.Replace(broken, `== "blocked"`, `== `, 1)
		r := harness.KubectlStdin(t, webhookPolicyConfigMap("broken", "broken.rego", broken), "apply", "-f", "-")
		if r.Code == 0 {
			t.Fatal("a policy ConfigMap with a syntax error was admitted")
		}
		if !regexp.MustCompile(`configmap/broken/broken\.rego:\d+: `).MatchString(r.Stderr) {
			t.Errorf("the refusal does not name the file and line:\n%s", r.Stderr)
		}
		webhookWaitDenied(t, webhookVirtualService("blocked-again", "ratings", map[string]any{"team": "blocked"}), "ACME200:")
	})

	t.Run("audit reports violations that existed before the webhook", func(t *testing.T) {
		var report string
		err := wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(context.Context) (bool, error) {
			r := harness.Kubectl(t, "get", "reports.openreports.io", "kubectl-mesh-audit", "-n", webhookNS, "-o", "json")
			report = r.Stdout
			return r.Code == 0 && strings.Contains(report, `"policy": "MESH1101"`) && strings.Contains(report, `"name": "legacy"`), nil
		})
		if err != nil {
			t.Fatalf("no audit report with MESH1101 for VirtualService legacy: %v\n%s\nwebhook log:\n%s", err, report, wh.Log.String())
		}
	})

	t.Run("graceful shutdown under load loses no accepted request", func(t *testing.T) {
		res := webhookShutdownUnderLoad(t, wh, ca.CertPEM)
		if res.answered == 0 || res.answeredAfterSignal == 0 {
			t.Errorf("answered %d requests, %d of them after SIGTERM; want some of both", res.answered, res.answeredAfterSignal)
		}
		if len(res.lost) > 0 {
			t.Errorf("%d accepted requests got no answer, e.g. %v\nwebhook log:\n%s", len(res.lost), res.lost[0], webhookTail(wh.Log.String(), 30))
		}
		t.Logf("answered %d (%d after SIGTERM), %d refused once the listener closed", res.answered, res.answeredAfterSignal, res.refused)
	})

	// Negative control: with the webhook gone, failurePolicy Fail makes the
	// apiserver refuse the same kind of object, so the apiserver really
	// called the webhook rather than the test passing without it.
	wh.Stop(t)
	if r := harness.KubectlStdin(t, webhookVirtualService("after-stop", "ratings", nil), "apply", "-f", "-"); r.Code == 0 ||
		!strings.Contains(r.Stderr, "failed calling webhook") {
		t.Fatalf("create with the webhook stopped: %v\nwant a 'failed calling webhook' error", r)
	}
}

// webhookWaitDenied creates obj (server dry run, so every attempt is a new
// admission request) until the webhook denies it with want in the message:
// ConfigMap changes reach the engine asynchronously.
func webhookWaitDenied(t *testing.T, obj, want string) {
	t.Helper()
	var stderr string
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		r := harness.KubectlStdin(t, obj, "create", "--dry-run=server", "-f", "-")
		stderr = r.Stderr
		return r.Code != 0 && strings.Contains(stderr, want), nil
	})
	if err != nil {
		t.Fatalf("never denied with %q: %v\nlast stderr: %s", want, err, stderr)
	}
}

// webhookVirtualService routes host to two subsets-free destinations. With
// labels["weights"] == "zero" both weights are 0 (MESH1115 denies it).
func webhookVirtualService(name, host string, labels map[string]any) string {
	weights := []int{90, 10}
	if labels["weights"] == "zero" {
		weights = []int{0, 0}
	}
	vs := map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": name, "namespace": webhookNS, "labels": labels},
		"spec": map[string]any{
			"hosts": []any{host},
			"http": []any{map[string]any{
				"timeout": "5s",
				"route": []any{
					map[string]any{"destination": map[string]any{"host": host, "port": map[string]any{"number": 8080}}, "weight": weights[0]},
					map[string]any{"destination": map[string]any{"host": host + "-canary", "port": map[string]any{"number": 8080}}, "weight": weights[1]},
				},
			}},
		},
	}
	data, _ := json.Marshal(vs)
	return string(data)
}

func webhookPolicyConfigMap(name, key, rego string) string {
	cm := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": webhookSystemNS, "labels": map[string]any{"kubectl-mesh.io/policy": "true"}},
		"data":     map[string]any{key: rego},
	}
	data, _ := json.Marshal(cm)
	return string(data)
}

type webhookShutdownResult struct {
	answered, answeredAfterSignal, refused int
	lost                                   []error
}

// webhookShutdownUnderLoad sends AdmissionReviews straight to the webhook
// from 8 clients, SIGTERMs it mid-load, and sorts the outcomes. Each request
// uses a new connection. A request whose bytes were never written (the
// connection was refused, or closed before the TLS handshake completed) was
// never accepted; one that was written and got no answer was lost.
func webhookShutdownUnderLoad(t *testing.T, wh *harness.Webhook, caPEM []byte) webhookShutdownResult {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	httpClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true,
	}}
	review := webhookAdmissionReview(t)
	url := "https://" + harness.Loopback(wh.Port) + webhook.ValidatePath

	var (
		mu        sync.Mutex
		res       webhookShutdownResult
		signalled bool
		wg        sync.WaitGroup
	)
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				written, err := webhookPost(httpClient, url, review)
				mu.Lock()
				switch {
				case err == nil:
					res.answered++
					if signalled {
						res.answeredAfterSignal++
					}
				case !written:
					res.refused++
				default:
					res.lost = append(res.lost, err)
				}
				done := signalled && err != nil
				mu.Unlock()
				if done {
					return // the listener is gone
				}
			}
		})
	}
	time.Sleep(time.Second) // load before the signal
	mu.Lock()
	signalled = true
	mu.Unlock()
	wh.Signal(t, syscall.SIGTERM)
	select {
	case <-wh.Exited():
	case <-time.After(40 * time.Second):
		t.Error("the webhook did not exit within 40s of SIGTERM")
	}
	close(stop)
	wg.Wait()
	return res
}

// webhookPost sends one review and checks that the answer is a review;
// written tells whether the request reached the server.
func webhookPost(c *http.Client, url string, review []byte) (written bool, err error) {
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) { written = info.Err == nil }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, url, bytes.NewReader(review))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return written, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return written, fmt.Errorf("reading the answer: %w", err)
	}
	var out struct {
		Response *struct {
			UID     string `json:"uid"`
			Allowed bool   `json:"allowed"`
		} `json:"response"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.Response == nil || out.Response.UID == "" {
		return written, fmt.Errorf("status %d, body %.200s", resp.StatusCode, body)
	}
	return written, nil
}

func webhookAdmissionReview(t *testing.T) []byte {
	t.Helper()
	var vs map[string]any
	if err := json.Unmarshal([]byte(webhookVirtualService("load", "ratings", nil)), &vs); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(map[string]any{
		"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
		"request": map[string]any{
			"uid":       "6f3c4b0e-load",
			"kind":      map[string]any{"group": "networking.istio.io", "version": "v1", "kind": "VirtualService"},
			"resource":  map[string]any{"group": "networking.istio.io", "version": "v1", "resource": "virtualservices"},
			"name":      "load",
			"namespace": webhookNS,
			"operation": "CREATE",
			"userInfo":  map[string]any{"username": "e2e"},
			"object":    vs,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// startWebhook runs the mesh-webhook binary against the sandbox with a
// serving certificate from ca, and waits until it is ready (TLS up, first
// inventory in the engine, policy ConfigMaps loaded).
func startWebhook(t *testing.T, ca *certs.CA, args ...string) *harness.Webhook {
	t.Helper()
	wh := harness.StartWebhook(t, harness.WebhookOptions{CA: ca, Args: args})
	// TLS 1.2 or newer with the certificate it was given, and no HTTP/2.
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.CertPEM)
	conn, err := tls.Dial("tcp", harness.Loopback(wh.Port), &tls.Config{RootCAs: roots, NextProtos: []string{"h2", "http/1.1"}, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS 1.2 handshake with the webhook: %v", err)
	}
	if proto := conn.ConnectionState().NegotiatedProtocol; proto == "h2" {
		t.Errorf("webhook negotiated HTTP/2, which is off by default")
	}
	_ = conn.Close()
	if _, err := tls.Dial("tcp", harness.Loopback(wh.Port), &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Errorf("webhook accepted TLS 1.1")
	}
	return wh
}

// registerWebhook registers the binary for VirtualServices in webhookNS
// and for policy ConfigMaps in webhookSystemNS, failing closed.
func registerWebhook(t *testing.T, client kubernetes.Interface, port int, caPEM []byte) {
	t.Helper()
	url := "https://" + harness.Loopback(port) + webhook.ValidatePath
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(10)
	createUpdate := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	inNamespace := func(ns string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}
	}
	entry := func(name, group, resource, ns string, objects *metav1.LabelSelector) admissionregistrationv1.ValidatingWebhook {
		return admissionregistrationv1.ValidatingWebhook{
			Name:         name,
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			Rules: []admissionregistrationv1.RuleWithOperations{{Operations: createUpdate, Rule: admissionregistrationv1.Rule{
				APIGroups: []string{group}, APIVersions: []string{"*"}, Resources: []string{resource}}}},
			NamespaceSelector:       inNamespace(ns),
			ObjectSelector:          objects,
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}
	}
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "kubectl-mesh-e2e"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			entry("validate.kubectl-mesh.io", "networking.istio.io", "virtualservices", webhookNS, nil),
			entry("policies.kubectl-mesh.io", "", "configmaps", webhookSystemNS,
				&metav1.LabelSelector{MatchLabels: map[string]string{"kubectl-mesh.io/policy": "true"}}),
		},
	}
	createWebhookConfiguration(t, client, cfg)
}

// webhookTail is the last n lines of a log.
func webhookTail(log string, n int) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
