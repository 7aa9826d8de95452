package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/audit"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

// auditE2ELabel marks the objects this test audits, so that objects of
// other tests in the same cluster do not change its counts.
const auditE2ELabel = "kubectl-mesh.io/audit-e2e"

// auditE2EPolicies: AUDITE001 fails ConfigMaps with a "bad" key, AUDITE002
// fails Namespaces without a team label.
var auditE2EPolicies = []policies.Source{
	{Name: "custom/bad_key.rego", Text: `# METADATA
# title: No bad key
# description: ConfigMaps must not have a key named bad.
# custom:
#   id: AUDITE001
#   severity: error
#   enforcement: deny
#   kinds: [ConfigMap]
package audit_e2e.bad_key

import rego.v1

violation contains {"msg": sprintf("ConfigMap %s has the key bad", [input.review.object.metadata.name])} if input.review.object.data.bad
`},
	{Name: "custom/ns_team.rego", Text: `# METADATA
# title: Namespaces have a team
# description: Namespaces must say which team owns them.
# custom:
#   id: AUDITE002
#   severity: error
#   enforcement: audit
#   kinds: [Namespace]
package audit_e2e.ns_team

import rego.v1

violation contains {"msg": sprintf("namespace %s has no team label", [input.review.object.metadata.name])} if not input.review.object.metadata.labels.team
`},
}

// Violations that exist before the audit starts end up in OpenReports
// reports through the real apiserver, with Events on the objects, and a fix
// clears them at the next audit.
func TestAuditWritesReportsForExistingViolations(t *testing.T) {
	ctx := t.Context()
	auditInstallCRDs(t)
	kube := harness.KubeClient(t)
	cfg := harness.RESTConfig(t)
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := audit.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	reports, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	// Before the auditor: audit-e2e-a (owned) holds a broken and a fine
	// ConfigMap, audit-e2e-b (no team) a fine one.
	const nsA, nsB = "audit-e2e-a", "audit-e2e-b"
	mark := map[string]string{auditE2ELabel: "true"}
	for _, ns := range []*corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: nsA, Labels: map[string]string{auditE2ELabel: "true", "team": "mesh"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: nsB, Labels: mark}},
	} {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = kube.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
		})
	}
	for _, cm := range []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: "broken", Labels: mark}, Data: map[string]string{"bad": "yes"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: "fine", Labels: mark}, Data: map[string]string{"good": "yes"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: nsB, Name: "fine", Labels: mark}, Data: map[string]string{"good": "yes"}},
	} {
		if _, err := kube.CoreV1().ConfigMaps(cm.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	broken, err := kube.CoreV1().ConfigMaps(nsA).Get(ctx, "broken", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	log := auditStart(t, scheme)

	auditWaitFor(t, log, "the Report of "+nsA, func(ctx context.Context) (string, bool, error) {
		r := &v1alpha1.Report{}
		if err := reports.Get(ctx, client.ObjectKey{Namespace: nsA, Name: audit.ReportName}, r); err != nil {
			return "", false, client.IgnoreNotFound(err)
		}
		got := auditDescribe(r.Labels, r.Source, r.Summary, r.Results)
		want := fmt.Sprintf("managed-by=kubectl-mesh source=kubectl-mesh pass=1 fail=1 warn=0 error=0 skip=0 | fail AUDITE001 high v1/ConfigMap %s/broken uid=%s: ConfigMap broken has the key bad", nsA, broken.UID)
		return got, got == want, nil
	})
	auditWaitFor(t, log, "the Report of "+nsB, func(ctx context.Context) (string, bool, error) {
		r := &v1alpha1.Report{}
		if err := reports.Get(ctx, client.ObjectKey{Namespace: nsB, Name: audit.ReportName}, r); err != nil {
			return "", false, client.IgnoreNotFound(err)
		}
		got := auditDescribe(r.Labels, r.Source, r.Summary, r.Results)
		return got, got == "managed-by=kubectl-mesh source=kubectl-mesh pass=1 fail=0 warn=0 error=0 skip=0 |", nil
	})
	auditWaitFor(t, log, "the ClusterReport", func(ctx context.Context) (string, bool, error) {
		r := &v1alpha1.ClusterReport{}
		if err := reports.Get(ctx, client.ObjectKey{Name: audit.ReportName}, r); err != nil {
			return "", false, client.IgnoreNotFound(err)
		}
		got := auditDescribe(r.Labels, r.Source, r.Summary, r.Results)
		return got, strings.HasPrefix(got, "managed-by=kubectl-mesh source=kubectl-mesh pass=1 fail=1 warn=0 error=0 skip=0 | fail AUDITE002 high v1/Namespace /"+nsB+" uid="), nil
	})
	t.Cleanup(func() {
		_ = reports.Delete(context.Background(), &v1alpha1.ClusterReport{ObjectMeta: metav1.ObjectMeta{Name: audit.ReportName}})
	})

	auditWaitFor(t, log, "a PolicyViolation Event on the broken ConfigMap", func(ctx context.Context) (string, bool, error) {
		list, err := kube.EventsV1().Events(nsA).List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", false, err
		}
		var got []string
		for _, e := range list.Items {
			if e.Regarding.Name != "broken" {
				continue
			}
			got = append(got, fmt.Sprintf("%s %s %s %s uid=%s: %s", e.Type, e.Reason, e.Regarding.Kind, e.Regarding.Name, e.Regarding.UID, e.Note))
		}
		want := fmt.Sprintf("Warning PolicyViolation ConfigMap broken uid=%s: AUDITE001: ConfigMap broken has the key bad", broken.UID)
		return strings.Join(got, "\n"), slices.Contains(got, want), nil
	})

	// Fix the ConfigMap and the Namespace; take b's only ConfigMap out of
	// the audit, so that b has nothing left to report on.
	broken.Data = map[string]string{"good": "now"}
	if _, err := kube.CoreV1().ConfigMaps(nsA).Update(ctx, broken, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	auditPatch(t, "namespace", nsB, "", "team=mesh")
	auditPatch(t, "configmap", "fine", nsB, auditE2ELabel+"-")

	auditWaitFor(t, log, "the fixed Report of "+nsA, func(ctx context.Context) (string, bool, error) {
		r := &v1alpha1.Report{}
		if err := reports.Get(ctx, client.ObjectKey{Namespace: nsA, Name: audit.ReportName}, r); err != nil {
			return "", false, err
		}
		got := auditDescribe(r.Labels, r.Source, r.Summary, r.Results)
		return got, got == "managed-by=kubectl-mesh source=kubectl-mesh pass=2 fail=0 warn=0 error=0 skip=0 |", nil
	})
	auditWaitFor(t, log, "the fixed ClusterReport", func(ctx context.Context) (string, bool, error) {
		r := &v1alpha1.ClusterReport{}
		if err := reports.Get(ctx, client.ObjectKey{Name: audit.ReportName}, r); err != nil {
			return "", false, err
		}
		got := auditDescribe(r.Labels, r.Source, r.Summary, r.Results)
		return got, got == "managed-by=kubectl-mesh source=kubectl-mesh pass=2 fail=0 warn=0 error=0 skip=0 |", nil
	})
	auditWaitFor(t, log, "no Report in "+nsB, func(ctx context.Context) (string, bool, error) {
		err := reports.Get(ctx, client.ObjectKey{Namespace: nsB, Name: audit.ReportName}, &v1alpha1.Report{})
		if apierrors.IsNotFound(err) {
			return "gone", true, nil
		}
		return fmt.Sprint(err), false, client.IgnoreNotFound(err)
	})

	// kubectl reads the reports with the CRD's columns.
	out := harness.Must(t, harness.Kubectl(t, "get", "reports.openreports.io", "-n", nsA)).Stdout
	if !strings.Contains(out, "PASS") || !auditHasRow(out, audit.ReportName, "2", "0") {
		t.Errorf("kubectl get reports -n %s:\n%s", nsA, out)
	}
}

// auditStart runs the auditor in a controller-runtime manager against the
// sandbox, auditing the marked Namespaces and ConfigMaps every second. It
// returns the auditor's log.
func auditStart(t *testing.T, scheme *runtime.Scheme) *cmdrun.SyncBuffer {
	t.Helper()
	cfg := harness.RESTConfig(t)
	log := &cmdrun.SyncBuffer{}
	logger := funcr.New(func(prefix, args string) { fmt.Fprintln(log, prefix, args) }, funcr.Options{})
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Logger:                 logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := policies.New(t.Context(), policies.Options{Library: []policies.Source{}, Custom: auditE2EPolicies})
	if err != nil {
		t.Fatal(err)
	}
	dyn := harness.DynamicClient(t)
	auditor, err := audit.New(audit.Config{
		Engine:   engine,
		Source:   &auditE2ESource{t: t, client: dyn},
		Client:   mgr.GetClient(),
		Reader:   mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder("kubectl-mesh-audit"),
		Metrics:  metrics.New(),
		Log:      logger.WithName("audit"),
		Interval: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Add(auditor); err != nil {
		t.Fatal(err)
	}
	harness.Start(t, "manager", mgr.Start)
	return log
}

// auditE2ESource lists the marked Namespaces and ConfigMaps from the
// apiserver at each audit. It never signals changes: the periodic audit
// picks them up.
type auditE2ESource struct {
	t      *testing.T
	client dynamic.Interface
}

func (s *auditE2ESource) Objects() []map[string]any {
	var out []map[string]any
	for _, resource := range []string{"namespaces", "configmaps"} {
		list, err := s.client.Resource(schema.GroupVersionResource{Version: "v1", Resource: resource}).
			List(context.Background(), metav1.ListOptions{LabelSelector: auditE2ELabel + "=true"})
		if err != nil {
			s.t.Errorf("listing %s: %v", resource, err)
			continue
		}
		for _, item := range list.Items {
			out = append(out, item.Object)
		}
	}
	return out
}

func (s *auditE2ESource) Subscribe() <-chan struct{} { return nil }

// auditWaitFor polls cond until it holds, failing with its last
// description and the auditor's log.
func auditWaitFor(t *testing.T, log *cmdrun.SyncBuffer, what string, cond func(ctx context.Context) (string, bool, error)) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		got, ok, err := cond(ctx)
		last = got
		return ok, err
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v\nlast seen: %s\nauditor log:\n%s", what, err, last, log.String())
	}
}

// auditDescribe writes a report on one line, for comparison.
func auditDescribe(labels map[string]string, source string, s v1alpha1.ReportSummary, results []v1alpha1.ReportResult) string {
	out := fmt.Sprintf("managed-by=%s source=%s pass=%d fail=%d warn=%d error=%d skip=%d |",
		labels[audit.ManagedByLabel], source, s.Pass, s.Fail, s.Warn, s.Error, s.Skip)
	for _, r := range results {
		out += fmt.Sprintf(" %s %s %s", r.Result, r.Policy, r.Severity)
		for _, sub := range r.Subjects {
			out += fmt.Sprintf(" %s/%s %s/%s uid=%s", sub.APIVersion, sub.Kind, sub.Namespace, sub.Name, sub.UID)
		}
		out += ": " + r.Description
	}
	return out
}

// auditInstallCRDs applies the OpenReports CRDs from the module this tree
// builds against, so the test checks the reports against the real schema.
func auditInstallCRDs(t *testing.T) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openreports/reports-api").Output()
	if err != nil {
		t.Fatalf("locating the reports-api module: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "config", "crd")
	harness.Must(t, harness.Kubectl(t, "apply", "-f", filepath.Join(dir, "openreports.io_reports.yaml"), "-f", filepath.Join(dir, "openreports.io_clusterreports.yaml")))
	harness.Must(t, harness.Kubectl(t, "wait", "--for=condition=Established", "--timeout=30s", "crd/reports.openreports.io", "crd/clusterreports.openreports.io"))
}

func auditPatch(t *testing.T, kind, name, namespace, label string) {
	t.Helper()
	args := []string{"label", kind, name, label}
	if namespace != "" {
		args = append(args, "-n", namespace)
	}
	harness.Must(t, harness.Kubectl(t, args...))
}

// auditHasRow reports whether some line of out starts with the fields.
func auditHasRow(out string, fields ...string) bool {
	for line := range strings.Lines(out) {
		if got := strings.Fields(line); len(got) >= len(fields) && slices.Equal(got[:len(fields)], fields) {
			return true
		}
	}
	return false
}
