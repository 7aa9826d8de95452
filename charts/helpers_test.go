package charts_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/charts"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/webhookinstall"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// requireCRDs fails with the fix when the OpenReports CRDs were not copied
// into the chart.
func requireCRDs(t *testing.T) {
	t.Helper()
	if err := webhookinstall.CheckCRDs(loadChart(t)); err != nil {
		t.Fatalf("%v (make chart-crds)", err)
	}
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := webhookinstall.LoadChart(charts.MeshWebhook(), "v9.8.7")
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// objects are the rendered documents, in manifest order.
type objects []map[string]any

func render(t *testing.T, values map[string]any) objects {
	t.Helper()
	rel, err := webhookinstall.Render(t.Context(), loadChart(t), webhookinstall.RenderOptions{Namespace: namespace, Values: values, KubeVersion: kubeVersion})
	if err != nil {
		t.Fatal(err)
	}
	var objs objects
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(rel.Manifest), 4096)
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("decoding the manifest: %v\n%s", err, rel.Manifest)
		}
		if obj == nil {
			continue
		}
		if ns := nested(obj, "metadata", "namespace"); ns != nil && ns != namespace {
			t.Errorf("%s %v in namespace %v, want the release namespace", obj["kind"], nested(obj, "metadata", "name"), ns)
		}
		objs = append(objs, obj)
		strictDecode(t, obj)
	}
	return objs
}

// strictDecode decodes the built-in kinds into their API types, refusing
// unknown fields, so a misplaced field fails here and not in a cluster.
func strictDecode(t *testing.T, obj map[string]any) {
	t.Helper()
	var into any
	switch obj["kind"] {
	case "Deployment":
		into = &appsv1.Deployment{}
	case "Service":
		into = &corev1.Service{}
	case "ServiceAccount":
		into = &corev1.ServiceAccount{}
	case "ClusterRole":
		into = &rbacv1.ClusterRole{}
	case "Role":
		into = &rbacv1.Role{}
	case "ClusterRoleBinding":
		into = &rbacv1.ClusterRoleBinding{}
	case "RoleBinding":
		into = &rbacv1.RoleBinding{}
	case "ValidatingWebhookConfiguration":
		into = &admissionregistrationv1.ValidatingWebhookConfiguration{}
	default:
		return
	}
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Errorf("%s %v: %v", obj["kind"], nested(obj, "metadata", "name"), err)
	}
}

func (o objects) kinds() []string {
	var kinds []string
	for _, obj := range o {
		kinds = append(kinds, obj["kind"].(string))
	}
	slices.Sort(kinds)
	return kinds
}

func (o objects) one(t *testing.T, kind string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, obj := range o {
		if obj["kind"] == kind {
			found = append(found, obj)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d objects of kind %s, want 1 (kinds: %v)", len(found), kind, o.kinds())
	}
	return found[0]
}

func (o objects) named(t *testing.T, kind, name string) corev1.Service {
	t.Helper()
	for _, obj := range o {
		if obj["kind"] == kind && nested(obj, "metadata", "name") == name {
			return decode[corev1.Service](t, obj)
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return corev1.Service{}
}

func (o objects) deployment(t *testing.T) appsv1.Deployment {
	return decode[appsv1.Deployment](t, o.one(t, "Deployment"))
}

func (o objects) webhookConfiguration(t *testing.T) admissionregistrationv1.ValidatingWebhookConfiguration {
	return decode[admissionregistrationv1.ValidatingWebhookConfiguration](t, o.one(t, "ValidatingWebhookConfiguration"))
}

func decode[T any](t *testing.T, obj map[string]any) T {
	t.Helper()
	var out T
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func nested(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(data))
}

// assertRestricted checks the restricted Pod Security Standard and a
// read-only root file system.
func assertRestricted(t *testing.T, pod corev1.PodSpec) {
	t.Helper()
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("pod securityContext %+v: want runAsNonRoot", psc)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want seccompProfile RuntimeDefault", psc)
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("container %s has no securityContext", c.Name)
			continue
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("container %s: want allowPrivilegeEscalation false", c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("container %s: want readOnlyRootFilesystem", c.Name)
		}
		if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("container %s: capabilities %+v, want drop ALL and nothing added", c.Name, sc.Capabilities)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("container %s is privileged", c.Name)
		}
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			t.Errorf("volume %s is a hostPath", v.Name)
		}
	}
}

func volume(d appsv1.Deployment, name string) *corev1.Volume {
	for i, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return &d.Spec.Template.Spec.Volumes[i]
		}
	}
	return nil
}

// selects reports whether a label selector's matchLabels all appear in labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// covers reports whether a webhook rule sends group/resource to the webhook.
func covers(rules []admissionregistrationv1.RuleWithOperations, group, resource string) bool {
	for _, r := range rules {
		if (slices.Contains(r.APIGroups, group) || slices.Contains(r.APIGroups, "*")) &&
			(slices.Contains(r.Resources, resource) || slices.Contains(r.Resources, "*")) {
			return true
		}
	}
	return false
}

// allows reports whether the rules grant every verb on group/resource
// (without resourceNames).
func allows(rules []rbacv1.PolicyRule, group, resource string, verbs ...string) bool {
	for _, v := range verbs {
		ok := slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, v)
		})
		if !ok {
			return false
		}
	}
	return true
}

// libraryKinds are the kinds the embedded policy library reviews, and with
// lookups true also those it looks up.
func libraryKinds(t *testing.T, lookups bool) []policies.Kind {
	t.Helper()
	engine, err := policies.New(t.Context(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []policies.Kind
	add := func(ks []policies.Kind) {
		for _, k := range ks {
			if k.Group == "*" || k.Kind == "*" {
				t.Fatalf("policy kind %s is a wildcard; the chart's rules need a resource list for it", k)
			}
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	for _, m := range engine.Policies() {
		add(m.Kinds)
		if lookups {
			add(m.Inventory)
		}
	}
	if len(kinds) < 10 {
		t.Fatalf("only %d kinds in the library: %v", len(kinds), kinds)
	}
	return kinds
}

// resourceOf is the API resource of a kind: lowercase plural.
func resourceOf(kind string) string {
	r := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(r, "y") && len(r) > 1 && !strings.ContainsRune("aeiou", rune(r[len(r)-2])):
		return r[:len(r)-1] + "ies"
	case strings.HasSuffix(r, "s"):
		return r + "es"
	default:
		return r + "s"
	}
}
