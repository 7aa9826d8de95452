package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/custompolicy"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/inventory"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

// inventoryWidgetCRD is a kind only a custom policy looks up, installed
// after the inventory started.
const inventoryWidgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.inventory-e2e.kubectl-mesh.io
spec:
  group: inventory-e2e.kubectl-mesh.io
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// inventoryWidgetPolicy makes the engine look Widgets up.
const inventoryWidgetPolicy = `# METADATA
# title: Widgets are looked up
# description: Makes the inventory watch Widgets.
# custom:
#   id: INVE2E001
#   severity: info
#   enforcement: audit
#   kinds: [Service]
#   inventory: [inventory-e2e.kubectl-mesh.io/Widget]
package inventory_e2e.widgets

import rego.v1

violation contains {"msg": "never"} if false
`

// The inventory reaches Rego: MESH1101 (VirtualService host without a
// Service) follows a Service created and deleted in the real apiserver; a
// CRD installed after the start is picked up and dropped when removed;
// Secrets other than those named are never cached.
func TestInventoryReachesRego(t *testing.T) {
	ctx := t.Context()
	client := harness.KubeClient(t)
	harness.Must(t, harness.KubectlStdin(t, virtualServiceCRD, "apply", "-f", "-"))
	harness.Must(t, harness.Kubectl(t, "wait", "--for=condition=Established", "crd/virtualservices.networking.istio.io", "--timeout=30s"))
	ns := inventoryNamespace(t, client, "inventory-shop")

	engine, err := policies.New(ctx, policies.Options{Custom: []policies.Source{{Name: "e2e/widgets.rego", Text: inventoryWidgetPolicy}}})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.New(inventory.Options{
		Config:     harness.RESTConfig(t),
		Engine:     engine,
		Log:        testr.NewWithOptions(t, testr.Options{Verbosity: 1}),
		Debounce:   200 * time.Millisecond,
		Rediscover: time.Second,
		Secrets:    []types.NamespacedName{{Namespace: ns, Name: "issuer"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	changed := inv.Subscribe()
	inventoryRunManager(t, inv)
	inventoryPoll(t, "the first inventory", func() bool { return inv.Synced() })
	select {
	case <-changed:
	default:
		t.Error("no change signal after the first inventory")
	}

	routeTo := func(name, host string) map[string]any {
		var obj map[string]any
		doc := `{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: ` + name + `, namespace: ` + ns + `},
			spec: {hosts: [` + host + `], http: [{route: [{destination: {host: ` + host + `}}], timeout: 5s}]}}`
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		return obj
	}
	hostMissing := func(vs map[string]any) bool {
		value, err := policies.ToValue(vs)
		if err != nil {
			t.Fatal(err)
		}
		findings, err := engine.Review(ctx, policies.NewReview(value, nil))
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(findings, func(f policies.Finding) bool { return f.PolicyID == "MESH1101" })
	}
	toReviews, toRatings := routeTo("reviews", "reviews"), routeTo("ratings", "ratings")
	if !hostMissing(toReviews) {
		t.Fatal("MESH1101 not reported before the Service exists")
	}

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "reviews", Namespace: ns},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "reviews"}, Ports: []corev1.ServicePort{{Name: "http", Port: 9080}}},
	}
	if _, err := client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	inventoryPoll(t, "the Service to reach the inventory", func() bool { return !hostMissing(toReviews) })
	if !hostMissing(toRatings) {
		t.Error("MESH1101 not reported for a host with no Service")
	}

	// Reviewed kinds are cached too, for the audit; managed fields are not.
	inventoryApply(t, toReviews)
	inventoryPoll(t, "the VirtualService in Objects()", func() bool {
		return inventoryFind(inv.Objects(), "networking.istio.io/v1", "VirtualService", ns, "reviews") != nil
	})
	cachedSvc := inventoryFind(inv.Objects(), "v1", "Service", ns, "reviews")
	if cachedSvc == nil {
		t.Fatal("the Service is not in Objects()")
	}
	if meta := cachedSvc["metadata"].(map[string]any); meta["managedFields"] != nil {
		t.Error("managed fields were cached")
	}

	if err := client.CoreV1().Services(ns).Delete(ctx, "reviews", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	inventoryPoll(t, "the deletion to reach the inventory", func() bool { return hostMissing(toReviews) })

	t.Run("only the named Secrets, without keys", func(t *testing.T) {
		for _, name := range []string{"issuer", "other"} {
			secret := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Type:       corev1.SecretTypeTLS,
				Data:       map[string][]byte{"tls.crt": []byte("certificate"), "tls.key": []byte("private key")},
			}
			if _, err := client.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		inventoryPoll(t, "the issuer Secret in Objects()", func() bool {
			return inventoryFind(inv.Objects(), "v1", "Secret", ns, "issuer") != nil
		})
		issuer := inventoryFind(inv.Objects(), "v1", "Secret", ns, "issuer")
		data, _ := issuer["data"].(map[string]any)
		if _, ok := data["tls.key"]; ok || data["tls.crt"] == nil {
			t.Errorf("issuer Secret data %v: want tls.crt and no key", data)
		}
		// Created together with the issuer: had it been watched, it would be here.
		if inventoryFind(inv.Objects(), "v1", "Secret", ns, "other") != nil {
			t.Error("a Secret no policy needs was cached")
		}
	})

	t.Run("a CRD installed later is watched, and dropped when removed", func(t *testing.T) {
		harness.Must(t, harness.KubectlStdin(t, inventoryWidgetCRD, "apply", "-f", "-"))
		t.Cleanup(func() {
			harness.Must(t, harness.Kubectl(t, "delete", "--ignore-not-found", "--wait=false", "crd/widgets.inventory-e2e.kubectl-mesh.io"))
		})
		harness.Must(t, harness.Kubectl(t, "wait", "--for=condition=Established", "crd/widgets.inventory-e2e.kubectl-mesh.io", "--timeout=30s"))
		harness.Must(t, harness.KubectlStdin(t, "apiVersion: inventory-e2e.kubectl-mesh.io/v1\nkind: Widget\nmetadata: {name: w1, namespace: "+ns+"}\nspec: {size: 3}\n", "apply", "-f", "-"))
		inventoryPoll(t, "the Widget in Objects()", func() bool {
			return inventoryFind(inv.Objects(), "inventory-e2e.kubectl-mesh.io/v1", "Widget", ns, "w1") != nil
		})
		harness.Must(t, harness.Kubectl(t, "delete", "crd/widgets.inventory-e2e.kubectl-mesh.io", "--timeout=60s"))
		inventoryPoll(t, "the Widget to leave Objects()", func() bool {
			return inventoryFind(inv.Objects(), "inventory-e2e.kubectl-mesh.io/v1", "Widget", ns, "w1") == nil
		})
	})
}

const inventoryGoodPolicy = `# METADATA
# title: Services carry a team label
# description: Every Service names the team that owns it.
# custom:
#   id: ACMEE2E001
#   severity: warning
#   enforcement: warn
#   kinds: [Service]
package acme_e2e.team_label

import rego.v1

violation contains {"msg": "Service has no team label"} if not input.review.object.metadata.labels.team
`

// inventoryBrokenPolicy does not parse: the rule is never closed (line 6).
const inventoryBrokenPolicy = "package acme_e2e.broken\n\nimport rego.v1\n\nviolation contains {\"msg\": \"x\"} if {\n"

// Custom policies from ConfigMaps take effect without a restart; a bad one
// is refused with an Event while the good set keeps working; fixing it
// loads it; deleting a ConfigMap removes its policies.
func TestInventoryCustomPolicyConfigMaps(t *testing.T) {
	ctx := t.Context()
	client := harness.KubeClient(t)
	ns := inventoryNamespace(t, client, "inventory-policies")

	engine, err := policies.New(ctx, policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	mgr := inventoryRunManager(t)
	loader, err := custompolicy.New(custompolicy.Options{
		Config:     harness.RESTConfig(t),
		HTTPClient: mgr.GetHTTPClient(),
		Mapper:     mgr.GetRESTMapper(),
		Namespace:  ns,
		Engine:     engine,
		Recorder:   mgr.GetEventRecorder("kubectl-mesh-webhook"),
		Metrics:    m,
		Log:        testr.New(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Add(loader); err != nil {
		t.Fatal(err)
	}
	inventoryPoll(t, "the first load", loader.Synced)

	inForce := func(id string) bool {
		return slices.ContainsFunc(engine.Policies(), func(p policies.Metadata) bool { return p.ID == id })
	}
	unlabelled, err := policies.ToValue(map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "web", "namespace": "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	reported := func() bool {
		findings, err := engine.Review(ctx, policies.NewReview(unlabelled, nil))
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(findings, func(f policies.Finding) bool { return f.PolicyID == "ACMEE2E001" })
	}
	configMap := func(name, text string) *corev1.ConfigMap {
		return &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{custompolicy.PolicyLabel: "true"}},
			Data:       map[string]string{"p.rego": text, "README": "not a policy"},
		}
	}
	cms := client.CoreV1().ConfigMaps(ns)

	if _, err := cms.Create(ctx, configMap("acme", inventoryGoodPolicy), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	inventoryPoll(t, "ACMEE2E001 to be in force", func() bool { return inForce("ACMEE2E001") })
	if !reported() {
		t.Fatal("ACMEE2E001 is loaded but does not report an unlabelled Service")
	}
	inventoryWaitForEvent(t, client, ns, "acme", custompolicy.ReasonLoaded, "ACMEE2E001")

	// What the admission of the bad ConfigMap answers.
	err = loader.Validate(ctx, configMap("broken", inventoryBrokenPolicy))
	if err == nil || !strings.Contains(err.Error(), "configmap/broken/p.rego:6:") {
		t.Errorf("validating the broken ConfigMap: %v, want an error at configmap/broken/p.rego:6", err)
	}

	refusedBefore := testutil.ToFloat64(m.PolicyLoads.WithLabelValues("refused"))
	if _, err := cms.Create(ctx, configMap("broken", inventoryBrokenPolicy), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	inventoryWaitForEvent(t, client, ns, "broken", custompolicy.ReasonRefused, "configmap/broken/p.rego:6:")
	if got := testutil.ToFloat64(m.PolicyLoads.WithLabelValues("refused")); got <= refusedBefore {
		t.Errorf("refused loads %v, want more than %v", got, refusedBefore)
	}
	if !inForce("ACMEE2E001") || !reported() {
		t.Error("the good policy stopped working when a bad one was refused")
	}

	fixed := configMap("broken", strings.NewReplacer("ACMEE2E001", "ACMEE2E002", "acme_e2e.team_label", "acme_e2e.fixed").Replace(inventoryGoodPolicy))
	if err := inventoryUpdate(ctx, cms, fixed); err != nil {
		t.Fatal(err)
	}
	inventoryPoll(t, "the fixed policy to be in force", func() bool { return inForce("ACMEE2E002") })
	inventoryWaitForEvent(t, client, ns, "broken", custompolicy.ReasonLoaded, "ACMEE2E002")
	if !inForce("ACMEE2E001") {
		t.Error("ACMEE2E001 was dropped when another ConfigMap was fixed")
	}

	if err := cms.Delete(ctx, "acme", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	inventoryPoll(t, "ACMEE2E001 to be removed", func() bool { return !inForce("ACMEE2E001") })
	if reported() {
		t.Error("a deleted policy still reports")
	}
	if !inForce("ACMEE2E002") || !inForce("MESH1101") {
		t.Error("deleting one ConfigMap removed other policies")
	}
}

// inventoryRunManager starts a manager (no metrics, probes or webhook
// server) with the runnables, and stops it when the test ends.
func inventoryRunManager(t *testing.T, runnables ...manager.Runnable) manager.Manager {
	t.Helper()
	mgr, err := ctrl.NewManager(harness.RESTConfig(t), ctrl.Options{
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Logger:                 testr.New(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runnables {
		if err := mgr.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	harness.Start(t, "manager", mgr.Start)
	return mgr
}

func inventoryNamespace(t *testing.T, client kubernetes.Interface, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

func inventoryPoll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// inventoryWaitForEvent waits for an Event with reason on the ConfigMap
// whose note contains want.
func inventoryWaitForEvent(t *testing.T, client kubernetes.Interface, ns, name, reason, want string) {
	t.Helper()
	var seen []string
	inventoryPoll(t, reason+" Event on "+name, func() bool {
		list, err := client.EventsV1().Events(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen = seen[:0]
		for _, e := range list.Items {
			if e.Regarding.Kind != "ConfigMap" || e.Regarding.Name != name {
				continue
			}
			seen = append(seen, e.Reason+": "+e.Note)
			if e.Reason == reason && strings.Contains(e.Note, want) {
				return true
			}
		}
		return false
	})
}

func inventoryUpdate(ctx context.Context, cms interface {
	Get(context.Context, string, metav1.GetOptions) (*corev1.ConfigMap, error)
	Update(context.Context, *corev1.ConfigMap, metav1.UpdateOptions) (*corev1.ConfigMap, error)
}, want *corev1.ConfigMap) error {
	current, err := cms.Get(ctx, want.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	current.Data = want.Data
	_, err = cms.Update(ctx, current, metav1.UpdateOptions{})
	return err
}

func inventoryFind(objs []map[string]any, apiVersion, kind, ns, name string) map[string]any {
	for _, o := range objs {
		meta, _ := o["metadata"].(map[string]any)
		if o["apiVersion"] == apiVersion && o["kind"] == kind && meta["namespace"] == ns && meta["name"] == name {
			return o
		}
	}
	return nil
}

// inventoryApply applies obj with kubectl.
func inventoryApply(t *testing.T, obj map[string]any) {
	t.Helper()
	doc, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	harness.Must(t, harness.KubectlStdin(t, string(doc), "apply", "-f", "-"))
}
