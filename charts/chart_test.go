package charts_test

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kubectl-mesh/kubectl-mesh/charts"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/webhookinstall"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
	"github.com/kubectl-mesh/kubectl-mesh/webhook"
)

// The Kubernetes version the chart is rendered and linted for: the sandbox's.
const kubeVersion = "v1.37.0"

const namespace = "kubectl-mesh-system"

func TestLintPasses(t *testing.T) {
	requireCRDs(t)
	kv, err := common.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range valueCases {
		t.Run(tc.name, func(t *testing.T) {
			lint := action.NewLint()
			lint.Strict = true // warnings fail too
			lint.Namespace = namespace
			lint.KubeVersion = kv
			res := lint.Run([]string{charts.MeshWebhookName}, tc.values)
			for _, msg := range res.Messages {
				if msg.Severity > support.InfoSev {
					t.Errorf("lint: %s", msg)
				}
			}
			for _, err := range res.Errors {
				t.Errorf("lint: %v", err)
			}
			if res.TotalChartsLinted != 1 {
				t.Errorf("linted %d charts, want 1", res.TotalChartsLinted)
			}
		})
	}
}

var valueCases = []struct {
	name   string
	values map[string]any
}{
	{name: "defaults"},
	{name: "cert-manager", values: map[string]any{"certificates": map[string]any{"mode": "cert-manager"}}},
	{name: "metrics and ServiceMonitor", values: map[string]any{"metrics": map[string]any{
		"service": map[string]any{"enabled": true}, "serviceMonitor": map[string]any{"enabled": true}}}},
}

// Every object renders, decodes strictly into its API type, and the
// defaults give a highly available, restricted webhook.
func TestDefaultRender(t *testing.T) {
	objs := render(t, nil)
	wantKinds := []string{"ClusterRole", "ClusterRoleBinding", "Deployment", "PodDisruptionBudget", "Role", "RoleBinding", "Service", "ServiceAccount", "ValidatingWebhookConfiguration"}
	if got := objs.kinds(); !slices.Equal(got, wantKinds) {
		t.Errorf("kinds %v, want %v", got, wantKinds)
	}

	d := objs.deployment(t)
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want 2", *d.Spec.Replicas)
	}
	assertRestricted(t, d.Spec.Template.Spec)
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != "ghcr.io/kubectl-mesh/mesh-webhook:v9.8.7" {
		t.Errorf("image %q, want the repository with the appVersion as tag", c.Image)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want CPU and memory requests and a memory limit", c.Resources)
	}
	if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "health" {
		t.Errorf("liveness probe %+v, want GET /healthz on the health port", p)
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" || p.HTTPGet.Port.String() != "health" {
		t.Errorf("readiness probe %+v, want GET /readyz on the health port", p)
	}
	for _, want := range []string{"--port=9443", "--cert-dir=/certs", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081",
		"--namespace=$(POD_NAMESPACE)", "--excluded-namespaces=kube-system," + namespace, "--evaluation-timeout=3s",
		"--max-concurrent-reviews=64", "--audit-interval=60s", "--cert-mode=self", "--webhook-config-name=mesh-webhook",
		"--service-name=mesh-webhook", "--cert-secret-name=mesh-webhook-certs", "--leader-elect=true"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("args lack %s: %v", want, c.Args)
		}
	}
	if env := c.Env; len(env) == 0 || env[0].Name != "POD_NAMESPACE" || env[0].ValueFrom == nil || env[0].ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("env %+v: want POD_NAMESPACE from the downward API", env)
	}
	if env := c.Env; len(env) < 2 || env[1].Name != "GOMEMLIMIT" || env[1].ValueFrom == nil || env[1].ValueFrom.ResourceFieldRef == nil || env[1].ValueFrom.ResourceFieldRef.Resource != "limits.memory" {
		t.Errorf("env %+v: want GOMEMLIMIT from the container's memory limit", env)
	}
	anti := d.Spec.Template.Spec.Affinity.PodAntiAffinity
	if anti == nil || len(anti.PreferredDuringSchedulingIgnoredDuringExecution) != 1 ||
		anti.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("anti-affinity %+v, want preferred by hostname", anti)
	}
	if v := volume(d, "certs"); v == nil || v.EmptyDir == nil {
		t.Errorf("certs volume %+v, want an emptyDir the webhook writes in self mode", v)
	}

	pdb := decode[policyv1.PodDisruptionBudget](t, objs.one(t, "PodDisruptionBudget"))
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PDB minAvailable %v, want 1", pdb.Spec.MinAvailable)
	}
	if !selects(pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("PDB selector %v does not select the Pods %v", pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	}

	svc := decode[corev1.Service](t, objs.one(t, "Service"))
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 443 || svc.Spec.Ports[0].TargetPort.String() != "webhook" {
		t.Errorf("Service ports %+v, want 443 -> webhook", svc.Spec.Ports)
	}
	if !selects(svc.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("Service selector %v does not select the Pods %v", svc.Spec.Selector, d.Spec.Template.Labels)
	}

	vwc := objs.webhookConfiguration(t)
	if vwc.Name != "mesh-webhook" || len(vwc.Webhooks) != 2 {
		t.Fatalf("webhook configuration %s with %d webhooks, want mesh-webhook with 2", vwc.Name, len(vwc.Webhooks))
	}
	for _, w := range vwc.Webhooks {
		if *w.FailurePolicy != admissionregistrationv1.Fail || *w.TimeoutSeconds != 5 || *w.SideEffects != admissionregistrationv1.SideEffectClassNone ||
			!slices.Equal(w.AdmissionReviewVersions, []string{"v1"}) {
			t.Errorf("webhook %s: failurePolicy %s, timeout %d, sideEffects %s, versions %v; want Fail, 5, None, [v1]",
				w.Name, *w.FailurePolicy, *w.TimeoutSeconds, *w.SideEffects, w.AdmissionReviewVersions)
		}
		if len(w.ClientConfig.CABundle) != 0 {
			t.Errorf("webhook %s has a caBundle: in self mode the webhook publishes it", w.Name)
		}
		if s := w.ClientConfig.Service; s == nil || s.Name != svc.Name || s.Namespace != namespace || *s.Port != 443 || *s.Path != "/validate" {
			t.Errorf("webhook %s calls %+v, want the chart's Service on 443 at /validate", w.Name, s)
		}
	}
	mesh, policyCMs := vwc.Webhooks[0], vwc.Webhooks[1]
	wantSelector := `{"matchExpressions":[{"key":"kubernetes.io/metadata.name","operator":"NotIn","values":["kube-system","kubectl-mesh-system"]}]}`
	if got := toJSON(t, mesh.NamespaceSelector); got != wantSelector {
		t.Errorf("namespaceSelector %s, want %s", got, wantSelector)
	}
	if covers(mesh.Rules, "", "configmaps") {
		t.Errorf("the mesh webhook reviews every ConfigMap; only policy ConfigMaps belong to the second webhook")
	}
	if !covers(policyCMs.Rules, "", "configmaps") || policyCMs.ObjectSelector.MatchLabels["kubectl-mesh.io/policy"] != "true" ||
		policyCMs.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != namespace {
		t.Errorf("policy ConfigMap webhook %+v: want configmaps labelled kubectl-mesh.io/policy=true in %s", policyCMs, namespace)
	}
	for _, r := range append(mesh.Rules, policyCMs.Rules...) {
		if !slices.Equal(r.Operations, []admissionregistrationv1.OperationType{"CREATE", "UPDATE"}) {
			t.Errorf("rule %v: operations %v, want CREATE and UPDATE", r.APIGroups, r.Operations)
		}
	}
}

// What admission reviews: the mesh groups and the core kinds the library's
// policies review. The kinds left to the background audit are listed, so a
// new policy on another kind fails here until the chart covers it.
func TestWebhookRulesCoverReviewedKinds(t *testing.T) {
	mesh := render(t, nil).webhookConfiguration(t).Webhooks[0]
	// Webhook configurations never reach admission webhooks, and the
	// negative status conditions of Gateway API Gateways (MESH1215) are
	// written after admission.
	auditOnly := []string{"Pod", "batch/Job", "batch/CronJob", "ConfigMap", "Secret",
		"gateway.networking.k8s.io/Gateway", "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
		"admissionregistration.k8s.io/MutatingWebhookConfiguration"}
	for _, k := range libraryKinds(t, false) {
		if slices.Contains(auditOnly, k.String()) {
			if covers(mesh.Rules, k.Group, resourceOf(k.Kind)) {
				t.Errorf("%s is reviewed on admission but listed as audit-only", k)
			}
			continue
		}
		if !covers(mesh.Rules, k.Group, resourceOf(k.Kind)) {
			t.Errorf("a policy reviews %s, which no webhook rule sends to the webhook", k)
		}
	}
	for _, want := range []struct{ group, resource string }{
		{"networking.istio.io", "virtualservices"}, {"security.istio.io", "peerauthentications"},
		{"telemetry.istio.io", "telemetries"}, {"extensions.istio.io", "wasmplugins"},
		{"policy.linkerd.io", "servers"}, {"linkerd.io", "serviceprofiles"},
		{"split.smi-spec.io", "trafficsplits"}, {"access.smi-spec.io", "traffictargets"}, {"specs.smi-spec.io", "httproutegroups"},
		{"gateway.networking.k8s.io", "httproutes"}, {"gateway.networking.k8s.io", "grpcroutes"},
		{"", "services"}, {"", "namespaces"}, {"apps", "deployments"}, {"apps", "statefulsets"}, {"apps", "daemonsets"},
	} {
		if !covers(mesh.Rules, want.group, want.resource) {
			t.Errorf("no rule for %s/%s", want.group, want.resource)
		}
	}
	if covers(mesh.Rules, "gateway.networking.k8s.io", "gateways") {
		t.Errorf("Gateway API Gateways are reviewed; the issue asks for routes only")
	}
}

// Least privilege: no wildcard anywhere, reads only where policies look,
// writes only to reports, events, the release's own webhook configuration,
// its certificate Secret and its Lease.
func TestRBACLeastPrivilege(t *testing.T) {
	objs := render(t, nil)
	cr := decode[rbacv1.ClusterRole](t, objs.one(t, "ClusterRole"))
	role := decode[rbacv1.Role](t, objs.one(t, "Role"))
	for _, r := range append(slices.Clone(cr.Rules), role.Rules...) {
		for _, list := range [][]string{r.Verbs, r.Resources, r.APIGroups} {
			for _, v := range list {
				if strings.Contains(v, "*") {
					t.Errorf("wildcard %q in rule %+v", v, r)
				}
			}
		}
	}

	writes := map[string]bool{}
	for _, r := range cr.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					if !slices.Contains([]string{"get", "list", "watch"}, v) {
						writes[g+"/"+res] = true
					}
				}
				if res == "secrets" && !slices.Equal(r.ResourceNames, []string{"linkerd-identity-issuer"}) {
					t.Errorf("the ClusterRole reads Secrets %v, want only linkerd-identity-issuer", r.ResourceNames)
				}
				readOnly := !slices.ContainsFunc(r.Verbs, func(v string) bool { return !slices.Contains([]string{"get", "list", "watch"}, v) })
				if res == "validatingwebhookconfigurations" && !readOnly && !slices.Equal(r.ResourceNames, []string{"mesh-webhook"}) {
					t.Errorf("the ClusterRole may change webhook configurations %v, want only the release's", r.ResourceNames)
				}
			}
		}
	}
	wantWrites := []string{"/events", "admissionregistration.k8s.io/validatingwebhookconfigurations", "events.k8s.io/events", "openreports.io/clusterreports", "openreports.io/reports"}
	var gotWrites []string
	for k := range writes {
		gotWrites = append(gotWrites, k)
	}
	slices.Sort(gotWrites)
	if !slices.Equal(gotWrites, wantWrites) {
		t.Errorf("the ClusterRole writes %v, want exactly %v", gotWrites, wantWrites)
	}
	if !allows(cr.Rules, "openreports.io", "reports", "create", "update", "patch", "delete", "get", "list", "watch") {
		t.Errorf("the ClusterRole cannot manage OpenReports reports")
	}
	if !allows(cr.Rules, "admissionregistration.k8s.io", "validatingwebhookconfigurations", "get", "update", "patch") {
		t.Errorf("the ClusterRole cannot patch the caBundle")
	}

	// Every kind a policy reviews or looks up can be read (Secrets by name).
	for _, k := range libraryKinds(t, true) {
		if k.Kind == "Secret" {
			continue
		}
		if !allows(cr.Rules, k.Group, resourceOf(k.Kind), "get", "list", "watch") {
			t.Errorf("policies read %s, which the ClusterRole does not allow", k)
		}
	}

	if role.Namespace != namespace {
		t.Errorf("Role in %q, want the release namespace", role.Namespace)
	}
	if !allows(role.Rules, "", "secrets", "get", "create", "update") || !allows(role.Rules, "coordination.k8s.io", "leases", "get", "create", "update") {
		t.Errorf("the Role does not cover the certificate Secret and the leader-election Lease: %+v", role.Rules)
	}
	// Only create goes without a name: reading or changing another Secret
	// or Lease of the namespace is not the webhook's business.
	for _, r := range role.Rules {
		if len(r.ResourceNames) == 0 && !slices.Equal(r.Verbs, []string{"create"}) {
			t.Errorf("the Role grants %v on every %v of the namespace, want them on the webhook's own by name", r.Verbs, r.Resources)
		}
		if slices.Contains(r.Resources, "secrets") && len(r.ResourceNames) > 0 && !slices.Equal(r.ResourceNames, []string{"mesh-webhook-certs"}) {
			t.Errorf("the Role names Secrets %v, want the certificate Secret mesh-webhook-certs", r.ResourceNames)
		}
	}

	crb := decode[rbacv1.ClusterRoleBinding](t, objs.one(t, "ClusterRoleBinding"))
	rb := decode[rbacv1.RoleBinding](t, objs.one(t, "RoleBinding"))
	sa := decode[corev1.ServiceAccount](t, objs.one(t, "ServiceAccount"))
	d := objs.deployment(t)
	for _, subjects := range [][]rbacv1.Subject{crb.Subjects, rb.Subjects} {
		if len(subjects) != 1 || subjects[0].Name != sa.Name || subjects[0].Namespace != namespace || d.Spec.Template.Spec.ServiceAccountName != sa.Name {
			t.Errorf("bindings %+v, Pods run as %q: want both to be ServiceAccount %s/%s", subjects, d.Spec.Template.Spec.ServiceAccountName, namespace, sa.Name)
		}
	}
}

// Without a memory limit (null removes the default) there is no
// GOMEMLIMIT to set.
func TestNoMemoryLimit(t *testing.T) {
	for name, resources := range map[string]any{
		"no memory limit": map[string]any{"limits": map[string]any{"memory": nil}},
		"no limits":       map[string]any{"limits": nil},
	} {
		d := render(t, map[string]any{"resources": resources}).deployment(t)
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "GOMEMLIMIT" {
				t.Errorf("%s: GOMEMLIMIT set: %+v", name, e)
			}
		}
	}
}

func TestCertManagerMode(t *testing.T) {
	objs := render(t, map[string]any{"certificates": map[string]any{"mode": "cert-manager"}})
	vwc := objs.webhookConfiguration(t)
	if got := vwc.Annotations["cert-manager.io/inject-ca-from"]; got != namespace+"/mesh-webhook" {
		t.Errorf("inject-ca-from %q, want %s/mesh-webhook", got, namespace)
	}
	cert := objs.one(t, "Certificate")
	issuer := objs.one(t, "Issuer")
	if got := nested(cert, "spec", "secretName"); got != "mesh-webhook-certs" {
		t.Errorf("Certificate secretName %v, want mesh-webhook-certs", got)
	}
	dns := nested(cert, "spec", "dnsNames").([]any)
	if !slices.Contains(dns, any("mesh-webhook."+namespace+".svc")) {
		t.Errorf("Certificate dnsNames %v lack the Service's name", dns)
	}
	if got := nested(cert, "spec", "issuerRef", "name"); got != issuer["metadata"].(map[string]any)["name"] {
		t.Errorf("Certificate issuer %v is not the chart's Issuer", got)
	}
	d := objs.deployment(t)
	if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--cert-mode=external") {
		t.Errorf("args %v: want --cert-mode=external", d.Spec.Template.Spec.Containers[0].Args)
	}
	if v := volume(d, "certs"); v == nil || v.Secret == nil || v.Secret.SecretName != "mesh-webhook-certs" {
		t.Errorf("certs volume %+v, want the Certificate's Secret", v)
	}

	// An existing issuer: no Issuer rendered.
	objs = render(t, map[string]any{"certificates": map[string]any{"mode": "cert-manager",
		"certManager": map[string]any{"issuerRef": map[string]any{"name": "corp-ca", "kind": "ClusterIssuer"}}}})
	if slices.Contains(objs.kinds(), "Issuer") {
		t.Errorf("an Issuer is rendered although issuerRef names one")
	}
	if got := nested(objs.one(t, "Certificate"), "spec", "issuerRef", "kind"); got != "ClusterIssuer" {
		t.Errorf("issuerRef kind %v, want ClusterIssuer", got)
	}
}

// Values reach the objects they configure.
func TestValuesAreHonored(t *testing.T) {
	selector := map[string]any{"matchLabels": map[string]any{"mesh-policy": "enforced"}}
	objs := render(t, map[string]any{
		"replicaCount": 3,
		"webhook": map[string]any{
			"failurePolicy":        "Ignore",
			"timeoutSeconds":       10,
			"evaluationTimeout":    "8s",
			"namespaceSelector":    selector,
			"excludedNamespaces":   []any{"kube-system", "istio-system"},
			"enforcementOverrides": map[string]any{"MESH1301": "warn"},
			"operations":           []any{"CREATE", "UPDATE", "DELETE"},
			"policyConfigMaps":     map[string]any{"validate": false},
		},
		"podDisruptionBudget": map[string]any{"enabled": false},
		"metrics": map[string]any{"service": map[string]any{"enabled": true},
			"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"}}},
		"audit":    map[string]any{"interval": "5m"},
		"logLevel": "debug",
	})
	d := objs.deployment(t)
	if *d.Spec.Replicas != 3 {
		t.Errorf("replicas %d, want 3", *d.Spec.Replicas)
	}
	args := d.Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{"--excluded-namespaces=kube-system,istio-system," + namespace, "--evaluation-timeout=8s",
		"--enforcement-override=MESH1301=warn", "--audit-interval=5m", "--zap-log-level=debug"} {
		if !slices.Contains(args, want) {
			t.Errorf("args lack %s: %v", want, args)
		}
	}
	if slices.Contains(objs.kinds(), "PodDisruptionBudget") {
		t.Errorf("a PodDisruptionBudget is rendered although disabled")
	}
	vwc := objs.webhookConfiguration(t)
	if len(vwc.Webhooks) != 1 {
		t.Fatalf("%d webhooks, want 1 with policyConfigMaps.validate false", len(vwc.Webhooks))
	}
	w := vwc.Webhooks[0]
	if *w.FailurePolicy != admissionregistrationv1.Ignore || *w.TimeoutSeconds != 10 {
		t.Errorf("failurePolicy %s timeout %d, want Ignore 10", *w.FailurePolicy, *w.TimeoutSeconds)
	}
	if got := toJSON(t, w.NamespaceSelector); got != `{"matchLabels":{"mesh-policy":"enforced"}}` {
		t.Errorf("namespaceSelector %s, want the one from the values", got)
	}
	if !slices.Contains(w.Rules[0].Operations, "DELETE") {
		t.Errorf("operations %v, want DELETE too", w.Rules[0].Operations)
	}
	metricsSvc := objs.named(t, "Service", "mesh-webhook-metrics")
	sm := objs.one(t, "ServiceMonitor")
	if got := nested(sm, "metadata", "labels", "release"); got != "prometheus" {
		t.Errorf("ServiceMonitor label release=%v, want prometheus", got)
	}
	smSelector := nested(sm, "spec", "selector", "matchLabels").(map[string]any)
	for k, v := range smSelector {
		if metricsSvc.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%v, which the metrics Service (%v) lacks", k, v, metricsSvc.Labels)
		}
	}
}

// Settings that would break admission fail the render with the value's name.
func TestInvalidValuesAreRefused(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"evaluation outlasts the webhook timeout", map[string]any{"webhook": map[string]any{"timeoutSeconds": 3, "evaluationTimeout": "3s"}}, "webhook.evaluationTimeout"},
		{"timeout out of range", map[string]any{"webhook": map[string]any{"timeoutSeconds": 31}}, "timeoutSeconds"},
		{"unknown failure policy", map[string]any{"webhook": map[string]any{"failurePolicy": "ignore"}}, "failurePolicy"},
		{"unknown certificate mode", map[string]any{"certificates": map[string]any{"mode": "vault"}}, "mode"},
		{"misspelt value", map[string]any{"webhook": map[string]any{"failurPolicy": "Ignore"}}, "failurPolicy"},
		{"ServiceMonitor without Service", map[string]any{"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true}}}, "metrics.service.enabled"},
		{"unknown enforcement", map[string]any{"webhook": map[string]any{"enforcementOverrides": map[string]any{"MESH1301": "block"}}}, "enforcementOverrides"},
	}
	ch := loadChart(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := webhookinstall.Render(t.Context(), ch, webhookinstall.RenderOptions{Namespace: namespace, Values: tc.values, KubeVersion: kubeVersion})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

// The default manifest, for review: `go test ./charts/ -update` rewrites it.
func TestDefaultManifestGolden(t *testing.T) {
	rel, err := webhookinstall.Render(t.Context(), loadChart(t), webhookinstall.RenderOptions{Namespace: namespace, KubeVersion: kubeVersion})
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "mesh-webhook-default.golden.yaml"), rel.Manifest)
}

func TestEmbeddedChartIsTheDirectory(t *testing.T) {
	requireCRDs(t)
	ch := loadChart(t)
	if ch.Metadata.Name != "mesh-webhook" || ch.Metadata.Version != "0.1.0" || ch.Metadata.APIVersion != "v2" {
		t.Errorf("chart %s %s (apiVersion %s), want mesh-webhook 0.1.0 v2", ch.Metadata.Name, ch.Metadata.Version, ch.Metadata.APIVersion)
	}
	if ch.Metadata.AppVersion != "v9.8.7" {
		t.Errorf("appVersion %q, want the one LoadChart stamps", ch.Metadata.AppVersion)
	}
	if err := webhookinstall.CheckCRDs(ch); err != nil {
		t.Error(err)
	}
	if ch.Schema == nil {
		t.Error("values.schema.json is not in the embedded chart")
	}
	var templates []string
	for _, tpl := range ch.Templates {
		templates = append(templates, tpl.Name)
	}
	entries, err := os.ReadDir(filepath.Join(charts.MeshWebhookName, "templates"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(templates) {
		t.Errorf("embedded templates %v, the directory has %d files", templates, len(entries))
	}
}

// The binary accepts every flag the chart passes, and the values validate:
// a renamed flag fails here instead of in a crash-looping Pod.
func TestArgsParseAsWebhookFlags(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"defaults":     nil,
		"cert-manager": {"certificates": map[string]any{"mode": "cert-manager"}},
	} {
		t.Run(name, func(t *testing.T) {
			c := render(t, values).deployment(t).Spec.Template.Spec.Containers[0]
			opts := webhook.DefaultOptions()
			fs := flag.NewFlagSet("mesh-webhook", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			opts.BindFlags(fs)
			zapOpts := zap.Options{}
			zapOpts.BindFlags(fs)
			args := make([]string, len(c.Args))
			for i, a := range c.Args {
				// The kubelet expands $(POD_NAMESPACE) from the downward API.
				args[i] = strings.ReplaceAll(a, "$(POD_NAMESPACE)", "kubectl-mesh-system")
			}
			if err := fs.Parse(args); err != nil {
				t.Fatalf("mesh-webhook refuses the chart's args %v: %v", args, err)
			}
			if err := opts.Validate(); err != nil {
				t.Errorf("the chart's args do not validate: %v", err)
			}
		})
	}
}
