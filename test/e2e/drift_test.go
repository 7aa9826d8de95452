package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/admission"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

const (
	driftNamespace = "drift-shop"
	// driftSelectorLabel scopes the test's webhook to its namespace.
	driftSelectorLabel = "kubectl-mesh.io/e2e-drift"
)

const driftObjects = `apiVersion: v1
kind: Namespace
metadata:
  name: drift-shop
  labels: {kubectl-mesh.io/e2e-drift: "true"}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: drift-shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
`

// driftVS is a VirtualService as kubectl mesh apply writes it: labelled
// with its pattern, and locked when annotations say so. It draws no other
// finding from the library.
func driftVS(name, timeout, annotations string) string {
	return fmt.Sprintf(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: %s
  namespace: drift-shop
  labels: {kubectl-mesh.io/pattern: shop}
  annotations: {%s}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    timeout: %s
`, name, annotations, timeout)
}

// driftRequest is what the apiserver sent the webhook about one object.
type driftRequest struct {
	operation string
	options   map[string]any
}

// driftRecorder passes requests to the handler and keeps each one's
// operation and options, so the test can show what the apiserver sends.
type driftRecorder struct {
	next cradmission.Handler
	mu   sync.Mutex
	seen map[string][]driftRequest
}

func (d *driftRecorder) Handle(ctx context.Context, req cradmission.Request) cradmission.Response {
	var options map[string]any
	if len(req.Options.Raw) > 0 {
		_ = json.Unmarshal(req.Options.Raw, &options)
	}
	d.mu.Lock()
	d.seen[req.Name] = append(d.seen[req.Name], driftRequest{operation: string(req.Operation), options: options})
	d.mu.Unlock()
	return d.next.Handle(ctx, req)
}

// last is the newest request about name.
func (d *driftRecorder) last(t *testing.T, name string) driftRequest {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	reqs := d.seen[name]
	if len(reqs) == 0 {
		t.Fatalf("the webhook saw no request about %s", name)
	}
	return reqs[len(reqs)-1]
}

// wantRequest checks the operation and options kind and field manager of
// the newest request about name.
func (d *driftRecorder) wantRequest(t *testing.T, name, operation, optionsKind, fieldManager string) {
	t.Helper()
	r := d.last(t, name)
	kind, _ := r.options["kind"].(string)
	manager, _ := r.options["fieldManager"].(string)
	if r.operation != operation || kind != optionsKind || manager != fieldManager {
		t.Errorf("the webhook saw %s with options %v; want %s with %s fieldManager=%q", r.operation, r.options, operation, optionsKind, fieldManager)
	}
}

// driftWarningHandler collects the warnings the apiserver returns to a
// client-go client.
type driftWarningHandler struct {
	mu       sync.Mutex
	warnings []string
}

func (w *driftWarningHandler) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.warnings = append(w.warnings, text)
}

// TestDriftPolicies runs the admission handler with the real library on
// loopback, registered for VirtualServices (CREATE, UPDATE, DELETE), and
// changes objects of a pattern the ways people and controllers do.
func TestDriftPolicies(t *testing.T) {
	ctx := t.Context()
	client := harness.KubeClient(t)
	harness.Must(t, harness.KubectlStdin(t, virtualServiceCRD, "apply", "-f", "-"))
	harness.Must(t, harness.Kubectl(t, "wait", "--for=condition=Established", "crd/virtualservices.networking.istio.io", "--timeout=30s"))
	harness.Must(t, harness.KubectlStdin(t, driftObjects, "apply", "-f", "-"))
	t.Cleanup(func() {
		harness.Kubectl(t, "delete", "namespace", driftNamespace, "--wait=false")
	})

	engine, err := policies.New(ctx, policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv := policies.NewInventory()
	inv.Add(map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "reviews", "namespace": driftNamespace},
		"spec":     map[string]any{"selector": map[string]any{"app": "reviews"}, "ports": []any{map[string]any{"name": "http", "port": 9080}}}})
	if err := engine.SetInventory(ctx, inv); err != nil {
		t.Fatal(err)
	}
	log := &cmdrun.SyncBuffer{}
	h, err := admission.New(admission.Config{
		Engine:             engine,
		Metrics:            metrics.New(),
		Log:                funcr.NewJSON(func(obj string) { fmt.Fprintln(log, obj) }, funcr.Options{Verbosity: 1}),
		ExcludedNamespaces: []string{"kube-system"},
	})
	if err != nil {
		t.Fatal(err)
	}
	recorder := &driftRecorder{next: h, seen: map[string][]driftRequest{}}
	ca, err := certs.NewCA("mesh-drift-e2e-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	port := admissionStartServer(t, recorder, ca)
	driftRegister(t, client, port, ca.CertPEM)
	// A server-side dry run creating a locked object is refused by MESH5005
	// once the apiserver calls the webhook, and stores nothing.
	waitForWebhook(t, driftVS("reviews-probe", "5s", `kubectl-mesh.io/drift: lock`), "MESH5005", "create", "--dry-run=server", "-f", "-")

	apply := func(t *testing.T, manifest string) string {
		t.Helper()
		return harness.Must(t, harness.KubectlStdin(t, manifest, "apply", "--server-side", "--field-manager", "kubectl-mesh", "--force-conflicts", "-f", "-")).Stderr
	}
	timeout := func(t *testing.T, name string) string {
		t.Helper()
		return harness.Must(t, harness.Kubectl(t, "get", "virtualservice", name, "-n", driftNamespace, "-o", "jsonpath={.spec.http[0].timeout}")).Stdout
	}
	const advice = `outside kubectl mesh: kubectl mesh diff shows the drift, kubectl mesh apply restores the pattern`

	t.Run("kubectl mesh's server-side apply is admitted without a warning", func(t *testing.T) {
		if stderr := apply(t, driftVS("reviews", "5s", "")); strings.Contains(stderr, "Warning:") {
			t.Errorf("warnings on kubectl mesh's apply:\n%s", stderr)
		}
		// An apply that creates is a CREATE with the apply's field manager.
		recorder.wantRequest(t, "reviews", "CREATE", "CreateOptions", "kubectl-mesh")
	})

	t.Run("kubectl patch draws MESH5004 and is admitted", func(t *testing.T) {
		stderr := harness.Must(t, harness.Kubectl(t, "patch", "virtualservice", "reviews", "-n", driftNamespace, "--type", "merge",
			"-p", `{"spec":{"http":[{"route":[{"destination":{"host":"reviews"}}],"timeout":"7s"}]}}`)).Stderr
		want := `Warning: MESH5004: field manager "kubectl-patch" changed spec of this object of pattern "shop" ` + advice
		if !strings.Contains(stderr, want) {
			t.Errorf("kubectl stderr does not contain\n%s\ngot:\n%s", want, stderr)
		}
		if got := timeout(t, "reviews"); got != "7s" {
			t.Errorf("timeout %q after the patch, want 7s (admitted)", got)
		}
		// A PATCH reaches admission as UPDATE, its PatchOptions converted to
		// UpdateOptions (the apiserver's patchToUpdateOptions).
		recorder.wantRequest(t, "reviews", "UPDATE", "UpdateOptions", "kubectl-patch")
	})

	t.Run("kubectl edit draws MESH5004 and is admitted", func(t *testing.T) {
		cmd := harness.Command(t.Context(), harness.KubectlPath, "edit", "virtualservice", "reviews", "-n", driftNamespace)
		cmd.Env = append(cmd.Env, `KUBE_EDITOR=sed -i "s/timeout: 7s/timeout: 8s/; s/kubectl-mesh.io\/pattern: shop/kubectl-mesh.io\/pattern: shop\n    team: payments/"`)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl edit: %v\n%s", err, out)
		}
		want := `Warning: MESH5004: field manager "kubectl-edit" changed metadata.labels and spec of this object of pattern "shop" ` + advice
		if !strings.Contains(string(out), want) {
			t.Errorf("kubectl edit output does not contain\n%s\ngot:\n%s", want, out)
		}
		if got := timeout(t, "reviews"); got != "8s" {
			t.Errorf("timeout %q after the edit, want 8s (admitted)", got)
		}
		recorder.wantRequest(t, "reviews", "UPDATE", "UpdateOptions", "kubectl-edit")
	})

	t.Run("a client without a field manager is named from managedFields", func(t *testing.T) {
		cfg := harness.RESTConfig(t)
		cfg.UserAgent = "drift-e2e-controller/v1.0 (linux/amd64)"
		warnings := &driftWarningHandler{}
		cfg.WarningHandler = warnings
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		vss := dyn.Resource(schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}).Namespace(driftNamespace)
		vs, err := vss.Get(ctx, "reviews", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := unstructured.SetNestedSlice(vs.Object, []any{map[string]any{
			"route": []any{map[string]any{"destination": map[string]any{"host": "reviews"}}}, "timeout": "9s",
		}}, "spec", "http"); err != nil {
			t.Fatal(err)
		}
		if _, err := vss.Update(ctx, vs, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update without a field manager: %v", err)
		}
		// The options carry no field manager: the apiserver records the
		// user agent's name in managedFields, which the policy reads.
		recorder.wantRequest(t, "reviews", "UPDATE", "UpdateOptions", "")
		want := `MESH5004: field manager "drift-e2e-controller" changed spec of this object of pattern "shop" ` + advice
		warnings.mu.Lock()
		got := strings.Join(warnings.warnings, "\n")
		warnings.mu.Unlock()
		if !strings.Contains(got, want) {
			t.Errorf("client-go warnings do not contain\n%s\ngot:\n%s", want, got)
		}
	})

	t.Run("re-applying with kubectl mesh restores the pattern without a warning", func(t *testing.T) {
		if stderr := apply(t, driftVS("reviews", "5s", "")); strings.Contains(stderr, "Warning:") {
			t.Errorf("warnings on kubectl mesh's re-apply:\n%s", stderr)
		}
		if got := timeout(t, "reviews"); got != "5s" {
			t.Errorf("timeout %q after the re-apply, want 5s", got)
		}
		recorder.wantRequest(t, "reviews", "UPDATE", "UpdateOptions", "kubectl-mesh")
	})

	const lock = `kubectl-mesh.io/drift: lock`
	t.Run("a locked object is created by kubectl mesh without a warning", func(t *testing.T) {
		if stderr := apply(t, driftVS("reviews-locked", "5s", lock)); strings.Contains(stderr, "Warning:") {
			t.Errorf("warnings on kubectl mesh's apply:\n%s", stderr)
		}
	})

	locked := `denied the request: MESH5005: pattern "shop" locks this object (kubectl-mesh.io/drift: lock): `
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"kubectl patch of a locked object is denied with MESH5005",
			[]string{"patch", "virtualservice", "reviews-locked", "-n", driftNamespace, "--type", "merge",
				"-p", `{"spec":{"http":[{"route":[{"destination":{"host":"reviews"}}],"timeout":"7s"}]}}`},
			locked + `field manager "kubectl-patch" changed spec; change the pattern and run kubectl mesh apply, kubectl mesh diff shows what differs`},
		{"removing the lock by hand is denied with MESH5005",
			[]string{"annotate", "virtualservice", "reviews-locked", "-n", driftNamespace, "kubectl-mesh.io/drift-"},
			locked + `field manager "kubectl-annotate" changed metadata.annotations`},
		{"kubectl delete of a locked object is denied with MESH5005",
			[]string{"delete", "virtualservice", "reviews-locked", "-n", driftNamespace},
			locked + `user "`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := harness.Kubectl(t, c.args...)
			if r.Code == 0 {
				t.Fatalf("kubectl %s succeeded:\n%s", strings.Join(c.args, " "), r.Stderr)
			}
			if !strings.Contains(r.Stderr, c.want) {
				t.Errorf("kubectl stderr does not contain\n%s\ngot:\n%s", c.want, r.Stderr)
			}
			vs := harness.Must(t, harness.Kubectl(t, "get", "virtualservice", "reviews-locked", "-n", driftNamespace,
				"-o", `jsonpath={.spec.http[0].timeout} {.metadata.annotations.kubectl-mesh\.io/drift}`)).Stdout
			if vs != "5s lock" {
				t.Errorf("the locked object is %q after the refused request, want %q", vs, "5s lock")
			}
		})
	}
	if r := recorder.last(t, "reviews-locked"); r.operation != "DELETE" || r.options["kind"] != "DeleteOptions" {
		t.Errorf("the webhook saw %s with %v for kubectl delete, want DELETE with DeleteOptions", r.operation, r.options)
	}

	t.Run("kubectl mesh changes, unlocks and then deletes a locked object", func(t *testing.T) {
		if stderr := apply(t, driftVS("reviews-locked", "6s", lock)); strings.Contains(stderr, "Warning:") {
			t.Errorf("warnings on kubectl mesh's change:\n%s", stderr)
		}
		if got := timeout(t, "reviews-locked"); got != "6s" {
			t.Errorf("timeout %q after kubectl mesh's change, want 6s", got)
		}
		if stderr := apply(t, driftVS("reviews-locked", "6s", "")); strings.Contains(stderr, "Warning:") {
			t.Errorf("warnings on kubectl mesh's unlock:\n%s", stderr)
		}
		if r := harness.Kubectl(t, "delete", "virtualservice", "reviews-locked", "-n", driftNamespace); r.Code != 0 {
			t.Errorf("delete after the unlock: %v", r)
		}
	})

	t.Run("kubectl mesh deletes the objects of a locked pattern that kubectl cannot delete", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "locked.yaml")
		locked := `apiVersion: kubectl-mesh.io/v1alpha1
kind: Pattern
metadata: {name: locked, namespace: drift-shop}
spec:
  mesh: istio
  drift: lock
  raw:
  - apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: reviews-raw}
    spec:
      hosts: [reviews]
      http:
      - route: [{destination: {host: reviews}}]
        timeout: 5s
`
		if err := os.WriteFile(file, []byte(locked), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := harness.Mesh(t, "apply", "-f", file); r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "virtualservice.networking.istio.io/reviews-raw created") {
			t.Fatalf("kubectl mesh apply of a locked pattern: %v", r)
		}
		if r := harness.Kubectl(t, "delete", "virtualservice", "reviews-raw", "-n", driftNamespace); r.Code == 0 || !strings.Contains(r.Stderr, "MESH5005") {
			t.Fatalf("kubectl delete of a locked pattern's object: want MESH5005, got %v", r)
		}
		if r := harness.Mesh(t, "delete", "-f", file); r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "virtualservice.networking.istio.io/reviews-raw deleted") {
			t.Fatalf("kubectl mesh delete of a locked pattern: %v", r)
		}
		if harness.Kubectl(t, "get", "virtualservice", "reviews-raw", "-n", driftNamespace).Code == 0 {
			t.Errorf("the locked pattern's VirtualService is still there after kubectl mesh delete")
		}
	})

	if t.Failed() {
		t.Logf("webhook log:\n%s", log.String())
	}
}

// driftRegister registers the webhook by url for VirtualServices in the
// test's namespace, DELETE included (MESH5005 asks for it).
func driftRegister(t *testing.T, client kubernetes.Interface, port int, caPEM []byte) {
	t.Helper()
	url := "https://" + harness.Loopback(port) + admissionPath
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(5)
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "kubectl-mesh-drift-e2e"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         "validate.kubectl-mesh.io",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{"networking.istio.io"}, APIVersions: []string{"*"}, Resources: []string{"virtualservices"}},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{driftSelectorLabel: "true"}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	createWebhookConfiguration(t, client, cfg)
}
