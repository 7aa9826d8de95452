package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/admission"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

const (
	admissionNamespace = "admission-shop"
	// admissionOwnNamespace stands for the webhook's namespace: excluded from
	// evaluation, home of the policy ConfigMaps.
	admissionOwnNamespace = "admission-system"
	// admissionSelectorLabel scopes the test's webhook to its namespaces, so
	// that other tests' objects never reach it.
	admissionSelectorLabel = "kubectl-mesh.io/e2e-admission"
	admissionPath          = "/validate"
)

const admissionObjects = `apiVersion: v1
kind: Namespace
metadata:
  name: admission-shop
  labels: {kubectl-mesh.io/e2e-admission: "true"}
---
apiVersion: v1
kind: Namespace
metadata:
  name: admission-system
  labels: {kubectl-mesh.io/e2e-admission: "true"}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: admission-shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
`

// Two destinations and no weights: MESH1115 (deny). Their subsets have no
// DestinationRule: MESH1102 (warn), twice.
const admissionSplitVS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-split, namespace: %s}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
    - destination: {host: reviews, subset: v2}
    timeout: 5s
`

// A host with no Service: MESH1101 (warn).
const admissionRatingsVS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: admission-shop}
spec:
  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings}}]
    timeout: 5s
`

const admissionCleanVS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: admission-shop}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    timeout: 5s
`

const admissionGoodPolicy = `# METADATA
# title: No latest tag
# description: Images are pinned.
# custom:
#   id: ACME100
#   severity: error
#   enforcement: deny
#   kinds: [Pod]
package acme.latest

import rego.v1

violation contains {"msg": "image uses :latest"} if {
	some c in input.review.object.spec.containers
	endswith(c.image, ":latest")
}
`

func admissionPolicyConfigMap(rego string) string {
	var indented strings.Builder
	for line := range strings.Lines(rego) {
		indented.WriteString("    " + line)
	}
	return `apiVersion: v1
kind: ConfigMap
metadata:
  name: acme-policies
  namespace: admission-system
  labels: {kubectl-mesh.io/policy: "true"}
data:
  deny-latest.rego: |
` + indented.String()
}

// TestAdmissionThroughKubectl runs the admission handler with the real
// policy library behind a controller-runtime webhook server on loopback,
// registered with the sandbox's apiserver by url, and drives it with kubectl.
func TestAdmissionThroughKubectl(t *testing.T) {
	ctx := t.Context()
	client := harness.KubeClient(t)
	harness.Must(t, harness.KubectlStdin(t, virtualServiceCRD, "apply", "-f", "-"))
	harness.Must(t, harness.Kubectl(t, "wait", "--for=condition=Established", "crd/virtualservices.networking.istio.io", "--timeout=30s"))
	harness.Must(t, harness.KubectlStdin(t, admissionObjects, "apply", "-f", "-"))

	// The inventory the webhook's cache would hold: the Service exists.
	engine, err := policies.New(ctx, policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv := policies.NewInventory()
	inv.Add(map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "reviews", "namespace": admissionNamespace},
		"spec":     map[string]any{"selector": map[string]any{"app": "reviews"}, "ports": []any{map[string]any{"name": "http", "port": 9080}}}})
	if err := engine.SetInventory(ctx, inv); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	log := &cmdrun.SyncBuffer{}
	h, err := admission.New(admission.Config{
		Engine:                   engine,
		Metrics:                  m,
		Log:                      funcr.NewJSON(func(obj string) { fmt.Fprintln(log, obj) }, funcr.Options{Verbosity: 1}),
		ExcludedNamespaces:       []string{"kube-system", admissionOwnNamespace},
		PolicyConfigMapNamespace: admissionOwnNamespace,
		PolicyConfigMapValidator: admissionConfigMapValidator(engine),
	})
	if err != nil {
		t.Fatal(err)
	}

	ca, err := certs.NewCA("mesh-admission-e2e-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	port := admissionStartServer(t, h, ca)
	admissionRegister(t, client, port, ca.CertPEM)
	waitForWebhook(t, fmt.Sprintf(admissionSplitVS, admissionNamespace), "MESH1115", "apply", "--dry-run=server", "-f", "-")

	t.Run("a deny policy refuses the object with every message, policy ID first", func(t *testing.T) {
		r := harness.KubectlStdin(t, fmt.Sprintf(admissionSplitVS, admissionNamespace), "apply", "-f", "-")
		if r.Code == 0 {
			t.Fatalf("kubectl apply of a VirtualService violating MESH1115 succeeded:\n%s", r.Stderr)
		}
		stderr := r.Stderr
		t.Logf("kubectl apply:\n%s", stderr)
		want := `admission webhook "validate.kubectl-mesh.io" denied the request: MESH1115: spec.http[0].route has 2 destinations and their weights sum to 0`
		if !strings.Contains(stderr, want) {
			t.Errorf("kubectl stderr does not contain\n%s\ngot:\n%s", want, stderr)
		}
		// The warn findings of the refused object are printed too.
		for _, w := range []string{`Warning: MESH1102: spec.http[0].route[0]: subset "v1"`, `Warning: MESH1102: spec.http[0].route[1]: subset "v2"`} {
			if !strings.Contains(stderr, w) {
				t.Errorf("kubectl stderr does not contain %q:\n%s", w, stderr)
			}
		}
		if r := harness.Kubectl(t, "get", "virtualservice", "reviews-split", "-n", admissionNamespace); r.Code == 0 || !strings.Contains(r.Stderr, "NotFound") {
			t.Errorf("the refused VirtualService: %v\nwant NotFound", r)
		}
	})

	t.Run("a warn policy's warning is printed by kubectl and the object is created", func(t *testing.T) {
		stderr := harness.Must(t, harness.KubectlStdin(t, admissionRatingsVS, "apply", "-f", "-")).Stderr
		t.Logf("kubectl apply:\n%s", stderr)
		for _, w := range []string{
			`Warning: MESH1101: host "ratings" matches no Service or ServiceEntry`,
			`Warning: MESH1101: spec.http[0].route[0]: destination host "ratings" matches no Service or ServiceEntry`,
		} {
			if !strings.Contains(stderr, w) {
				t.Errorf("kubectl stderr does not contain %q:\n%s", w, stderr)
			}
		}
		harness.Must(t, harness.Kubectl(t, "get", "virtualservice", "ratings", "-n", admissionNamespace))
		if !admissionLoggedVerdict(log.String(), "CREATE", "ratings", "warned") {
			t.Errorf("no log line for the warned request:\n%s", log.String())
		}
	})

	t.Run("a clean object is created without warnings; breaking it on UPDATE is refused", func(t *testing.T) {
		if r := harness.KubectlStdin(t, admissionCleanVS, "apply", "-f", "-"); r.Code != 0 || strings.Contains(r.Stderr, "Warning:") {
			t.Fatalf("kubectl apply of a clean VirtualService: %v", r)
		}
		broken := strings.Replace(admissionCleanVS, "  - route: [{destination: {host: reviews}}]",
			"  - route: [{destination: {host: reviews}, weight: 0}, {destination: {host: reviews}, weight: 0}]", 1)
		if r := harness.KubectlStdin(t, broken, "apply", "-f", "-"); r.Code == 0 || !strings.Contains(r.Stderr, "denied the request: MESH1115: ") {
			t.Fatalf("kubectl apply of a broken update: %v\nwant MESH1115 in stderr", r)
		}
		got := harness.Must(t, harness.Kubectl(t, "get", "virtualservice", "reviews", "-n", admissionNamespace, "-o", "jsonpath={.spec.http[0].route}")).Stdout
		if strings.Contains(got, "weight") {
			t.Errorf("the refused update was stored: %s", got)
		}
	})

	t.Run("the webhook's own namespace is not evaluated", func(t *testing.T) {
		if r := harness.KubectlStdin(t, fmt.Sprintf(admissionSplitVS, admissionOwnNamespace), "apply", "-f", "-"); r.Code != 0 || strings.Contains(r.Stderr, "Warning:") {
			t.Fatalf("kubectl apply in the excluded namespace: %v", r)
		}
	})

	t.Run("a policy ConfigMap with bad Rego is refused with file:line", func(t *testing.T) {
		// A misspelt built-in on line 15 of the policy.
		bad := admissionPolicyConfigMap(strings.Replace(admissionGoodPolicy, "endswith(", "ends_with(", 1))
		r := harness.KubectlStdin(t, bad, "apply", "-f", "-")
		if r.Code == 0 {
			t.Fatalf("kubectl apply of a bad policy ConfigMap succeeded:\n%s", r.Stderr)
		}
		stderr := r.Stderr
		t.Logf("kubectl apply:\n%s", stderr)
		for _, w := range []string{`denied the request: policy ConfigMap admission-system/acme-policies refused`, "configmap/acme-policies/deny-latest.rego:15: ", "ends_with"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("kubectl stderr does not contain %q:\n%s", w, stderr)
			}
		}
		harness.Must(t, harness.KubectlStdin(t, admissionPolicyConfigMap(admissionGoodPolicy), "apply", "-f", "-"))
	})

	kind := "networking.istio.io/VirtualService"
	for _, c := range []struct {
		op, verdict string
		min         float64
	}{{"CREATE", "denied", 1}, {"CREATE", "warned", 1}, {"UPDATE", "denied", 1}, {"CREATE", "allowed", 1}} {
		if got := testutil.ToFloat64(m.AdmissionRequests.WithLabelValues(c.op, kind, c.verdict)); got < c.min {
			t.Errorf("admission requests{%s,%s,%s} = %v, want at least %v", c.op, kind, c.verdict, got, c.min)
		}
	}
	if got := testutil.ToFloat64(m.Violations.WithLabelValues("MESH1115", "error", "admission")); got < 2 {
		t.Errorf("violations{MESH1115} = %v, want at least 2", got)
	}
	if got := testutil.CollectAndCount(m.AdmissionErrors); got != 0 {
		t.Errorf("%d admission error series, want none:\n%s", got, log.String())
	}
}

// admissionConfigMapValidator compiles a policy ConfigMap's .rego keys,
// named configmap/NAME/KEY, with the library, as the webhook is wired to.
func admissionConfigMapValidator(engine *policies.Engine) func(context.Context, *corev1.ConfigMap) error {
	return func(ctx context.Context, cm *corev1.ConfigMap) error {
		var sources []policies.Source
		for key, text := range cm.Data {
			if strings.HasSuffix(key, ".rego") {
				sources = append(sources, policies.Source{Name: "configmap/" + cm.Name + "/" + key, Text: text})
			}
		}
		sort.Slice(sources, func(i, j int) bool { return sources[i].Name < sources[j].Name })
		return engine.ValidateCustom(ctx, sources)
	}
}

// admissionStartServer serves h over TLS on loopback with controller-runtime's
// webhook server, as the manager does, until the test ends.
func admissionStartServer(t *testing.T, h cradmission.Handler, ca *certs.CA) int {
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
	port := harness.FreePort(t)
	server := crwebhook.NewServer(crwebhook.Options{Host: "127.0.0.1", Port: port, CertDir: certDir})
	server.Register(admissionPath, &cradmission.Webhook{
		Handler:        h,
		LogConstructor: func(logr.Logger, *cradmission.Request) logr.Logger { return logr.Discard() },
	})
	stopped := harness.Start(t, "webhook server", server.Start)
	err = wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		select {
		case <-stopped:
			return false, errors.New("webhook server stopped")
		default:
		}
		return server.StartedChecker()(nil) == nil, nil
	})
	if err != nil {
		t.Fatalf("webhook server not serving: %v", err)
	}
	return port
}

// admissionRegister registers the webhook by url for VirtualServices and for
// policy ConfigMaps, in the test's namespaces only.
func admissionRegister(t *testing.T, client kubernetes.Interface, port int, caPEM []byte) {
	t.Helper()
	url := "https://" + harness.Loopback(port) + admissionPath
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(5)
	namespaces := &metav1.LabelSelector{MatchLabels: map[string]string{admissionSelectorLabel: "true"}}
	hook := func(name string, rule admissionregistrationv1.RuleWithOperations, objects *metav1.LabelSelector) admissionregistrationv1.ValidatingWebhook {
		return admissionregistrationv1.ValidatingWebhook{
			Name:                    name,
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			Rules:                   []admissionregistrationv1.RuleWithOperations{rule},
			NamespaceSelector:       namespaces,
			ObjectSelector:          objects,
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}
	}
	ops := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "kubectl-mesh-admission-e2e"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			hook("validate.kubectl-mesh.io", admissionregistrationv1.RuleWithOperations{
				Operations: append(ops, admissionregistrationv1.Delete),
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{"networking.istio.io"}, APIVersions: []string{"*"}, Resources: []string{"virtualservices"}},
			}, nil),
			hook("policies.kubectl-mesh.io", admissionregistrationv1.RuleWithOperations{
				Operations: ops,
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
			}, &metav1.LabelSelector{MatchLabels: map[string]string{admission.PolicyLabel: "true"}}),
		},
	}
	createWebhookConfiguration(t, client, cfg)
}

// admissionLoggedVerdict reports whether the handler logged the request with
// the verdict (funcr's JSON: "key":"value").
func admissionLoggedVerdict(log, operation, name, verdict string) bool {
	for line := range strings.Lines(log) {
		if strings.Contains(line, `"msg":"admission request"`) &&
			strings.Contains(line, `"operation":"`+operation+`"`) &&
			strings.Contains(line, `"name":"`+name+`"`) &&
			strings.Contains(line, `"verdict":"`+verdict+`"`) {
			return true
		}
	}
	return false
}
