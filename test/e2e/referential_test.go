package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/webhook"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// The namespaces of TestWebhookReadsItsOwnWrites: the webhook reviews only
// refsNS.
const (
	refsNS       = "refs-e2e"
	refsSystemNS = "refs-e2e-system"
)

// refsStandInCRD stands in for one of Istio's CRDs: the webhook only needs
// the API to serve the kind (as virtualServiceCRD).
func refsStandInCRD(group, kind, plural string) string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[3]s.%[1]s
spec:
  group: %[1]s
  names: {kind: %[2]s, listKind: %[2]sList, plural: %[3]s, singular: %[4]s}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`, group, kind, plural, strings.ToLower(kind))
}

// refsCanary is a Service, its two versions, their DestinationRule and a
// VirtualService splitting traffic between them, in that order in one
// file: each object names only objects before it.
func refsCanary(name string) string {
	deployment := func(version string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s-%[2]s, namespace: %[3]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: %[1]s, version: %[2]s}}
  template:
    metadata: {labels: {app: %[1]s, version: %[2]s}}
    spec: {containers: [{name: app, image: registry.example/%[1]s:1.0}]}
`, name, version, refsNS)
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  selector: {app: %[1]s}
  ports: [{name: http, port: 9080}]
---
%[3]s---
%[4]s---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  host: %[1]s
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  hosts: [%[1]s]
  http:
  - timeout: 5s
    route:
    - {destination: {host: %[1]s, subset: v1}, weight: 90}
    - {destination: {host: %[1]s, subset: v2}, weight: 10}
`, name, refsNS, deployment("v1"), deployment("v2"))
}

// refsZeroWeights splits traffic with weights that sum to 0: MESH1115
// denies it, which tells that the apiserver calls the webhook.
const refsZeroWeights = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: probe, namespace: refs-e2e}
spec:
  hosts: [probe]
  http:
  - timeout: 5s
    route:
    - {destination: {host: probe}, weight: 0}
    - {destination: {host: probe-canary}, weight: 0}
`

// refsRouteTo is a VirtualService sending host's traffic to one subset.
func refsRouteTo(name, host, subset string) string {
	return fmt.Sprintf(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: %s, namespace: %s}
spec:
  hosts: [%s]
  http:
  - timeout: 5s
    route: [{destination: {host: %s, subset: %s}}]
`, name, refsNS, host, host, subset)
}

var policyIDPattern = regexp.MustCompile(`MESH[0-9]{4}`)

// TestWebhookReadsItsOwnWrites runs the mesh-webhook binary (its inventory
// fed by informers, rebuilt at most every 500ms) and creates objects
// together with what they refer to, as users do, one right after the
// other: no warning may rest on an object the apiserver already had. A
// subset that is really missing still warns, every time.
func TestWebhookReadsItsOwnWrites(t *testing.T) {
	ctx := t.Context()
	client := harness.KubeClient(t)
	for _, ns := range []string{refsNS, refsSystemNS} {
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		})
	}
	// Served before the webhook starts, so that its first discovery
	// watches them (it looks for new kinds every 30s only).
	harness.Must(t, harness.KubectlStdin(t, strings.Join([]string{
		virtualServiceCRD,
		refsStandInCRD("networking.istio.io", "DestinationRule", "destinationrules"),
		refsStandInCRD("security.istio.io", "PeerAuthentication", "peerauthentications"),
		refsStandInCRD("security.istio.io", "AuthorizationPolicy", "authorizationpolicies"),
	}, "---\n"), "apply", "-f", "-"))
	harness.Must(t, harness.Kubectl(t, "wait", "--for=condition=Established", "--timeout=30s",
		"crd/virtualservices.networking.istio.io", "crd/destinationrules.networking.istio.io",
		"crd/peerauthentications.security.istio.io", "crd/authorizationpolicies.security.istio.io"))

	ca, err := certs.NewCA("mesh-refs-e2e-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wh := startWebhook(t, ca, "--namespace="+refsSystemNS, "--audit-interval=0")
	refsRegister(t, client, wh.Port, ca.CertPEM)
	waitForWebhook(t, refsZeroWeights, "MESH1115", "create", "--dry-run=server", "-f", "-")

	t.Run("kubectl apply of a Service, its Deployments, DestinationRule and VirtualService: no warning, 20 times", func(t *testing.T) {
		for i := range 20 {
			name := "canary-" + strconv.Itoa(i)
			stderr := harness.Must(t, harness.KubectlStdin(t, refsCanary(name), "apply", "-f", "-")).Stderr
			if ids := policyIDPattern.FindAllString(stderr, -1); len(ids) > 0 {
				t.Errorf("kubectl apply of %s warned %v about objects the apiserver had:\n%s\nwebhook log:\n%s", name, ids, stderr, webhookTail(wh.Log.String(), 20))
			}
		}
		// The inventory, rebuilt at most every 500ms, was behind on some of
		// these requests: otherwise this test proved nothing.
		if n := refsConfirmations(t, wh, "caught-up"); n == 0 {
			t.Errorf("no review found the inventory behind the apiserver; the test did not exercise the race\nwebhook log:\n%s", webhookTail(wh.Log.String(), 30))
		} else {
			t.Logf("%v reviews found the inventory behind and were evaluated again", n)
		}
	})

	t.Run("kubectl mesh apply of the canary pattern right after kubectl create service: no warning", func(t *testing.T) {
		harness.Must(t, harness.Kubectl(t, "create", "service", "clusterip", "reviews", "--tcp=9080:9080", "-n", refsNS))
		// The workloads the pattern's subsets and AuthorizationPolicy select.
		for _, version := range []string{"v1", "v2"} {
			harness.Must(t, harness.KubectlStdin(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-%[1]s, namespace: %[2]s}
spec:
  selector: {matchLabels: {app: reviews, version: %[1]s}}
  template:
    metadata: {labels: {app: reviews, version: %[1]s}}
    spec: {containers: [{name: reviews, image: docker.io/istio/examples-bookinfo-reviews-%[1]s:1.20.2}]}
`, version, refsNS), "apply", "-f", "-"))
		}
		r := harness.Must(t, harness.Mesh(t,
			"apply", "-f", "../../examples/patterns/reviews-canary.yaml", "-n", refsNS, "--mesh", "istio"))
		if ids := policyIDPattern.FindAllString(r.Stderr+r.Stdout, -1); len(ids) > 0 {
			t.Errorf("kubectl mesh apply warned %v about objects the apiserver had:\n%s", ids, r)
		}
		harness.Must(t, harness.Kubectl(t, "get", "virtualservice.networking.istio.io/reviews", "destinationrule.networking.istio.io/reviews", "-n", refsNS))
	})

	t.Run("a subset that is really missing warns every time", func(t *testing.T) {
		// Each warning was confirmed: against an inventory found current,
		// or caught up (the VirtualServices of the loop are looked up too).
		confirmed := func() float64 { return refsConfirmations(t, wh, "current") + refsConfirmations(t, wh, "caught-up") }
		before, failedBefore := confirmed(), refsConfirmations(t, wh, "failed")
		for i := range 5 {
			name := "missing-subset-" + strconv.Itoa(i)
			stderr := harness.Must(t, harness.KubectlStdin(t, refsRouteTo(name, "canary-0", "v3"), "apply", "-f", "-")).Stderr
			if want := `Warning: MESH1102: spec.http[0].route[0]: subset "v3" of host "canary-0"`; !strings.Contains(stderr, want) {
				t.Errorf("kubectl apply of %s: no %q:\n%s", name, want, stderr)
			}
		}
		if got := confirmed() - before; got != 5 {
			t.Errorf("%v reviews confirmed against the apiserver, want 5", got)
		}
		if got := refsConfirmations(t, wh, "failed") - failedBefore; got != 0 {
			t.Errorf("%v confirmations failed\nwebhook log:\n%s", got, webhookTail(wh.Log.String(), 20))
		}
	})
}

// refsRegister registers the binary for the kinds of the canary in refsNS,
// failing closed.
func refsRegister(t *testing.T, client kubernetes.Interface, port int, caPEM []byte) {
	t.Helper()
	url := "https://" + harness.Loopback(port) + webhook.ValidatePath
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(10)
	rule := func(group string, resources ...string) admissionregistrationv1.RuleWithOperations {
		return admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{group}, APIVersions: []string{"*"}, Resources: resources},
		}
	}
	createWebhookConfiguration(t, client, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "kubectl-mesh-refs-e2e"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         "validate.kubectl-mesh.io",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			Rules: []admissionregistrationv1.RuleWithOperations{
				rule("", "services"),
				rule("apps", "deployments"),
				rule("networking.istio.io", "virtualservices", "destinationrules"),
				rule("security.istio.io", "peerauthentications", "authorizationpolicies"),
			},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": refsNS}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	})
}

// refsConfirmations reads kubectl_mesh_admission_confirmations_total for
// result from the webhook's /metrics.
func refsConfirmations(t *testing.T, wh *harness.Webhook, result string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + harness.Loopback(wh.MetricsPort) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	prefix := `kubectl_mesh_admission_confirmations_total{result="` + result + `"} `
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			return n
		}
	}
	return 0
}
