package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// testPolicy writes a custom policy with the given METADATA custom block.
func testPolicy(pkg, custom, body string) policies.Source {
	return policies.Source{Name: "custom/" + pkg + ".rego", Text: `# METADATA
# title: Test policy ` + pkg + `
# description: A policy for tests.
# custom:
` + custom + `
package acme.` + pkg + `

import rego.v1

` + body}
}

// testPolicies: ACME001 fails ConfigMaps with a "bad" key, ACME002 warns
// about ConfigMaps without a team label, ACME003 fails Namespaces without
// one, ACME004 cannot be evaluated on the ConfigMap named boom.
var testPolicies = []policies.Source{
	testPolicy("bad_key", "#   id: ACME001\n#   severity: error\n#   enforcement: deny\n#   aliases: [OLD001]\n#   kinds: [ConfigMap]",
		`violation contains {"msg": sprintf("%s has the key bad", [input.review.object.metadata.name])} if input.review.object.data.bad
`),
	testPolicy("cm_team", "#   id: ACME002\n#   severity: warning\n#   enforcement: warn\n#   kinds: [ConfigMap]",
		`violation contains {"msg": "no team label"} if not input.review.object.metadata.labels.team
`),
	testPolicy("ns_team", "#   id: ACME003\n#   severity: error\n#   enforcement: audit\n#   kinds: [Namespace]",
		`violation contains {"msg": sprintf("namespace %s has no team label", [input.review.object.metadata.name])} if not input.review.object.metadata.labels.team
`),
	testPolicy("boom", "#   id: ACME004\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]",
		`conflict := 1 if true

conflict := 2 if input.review.object.metadata.name == "boom"

violation contains {"msg": "never"} if conflict == 3
`),
}

func testEngine(t *testing.T) *policies.Engine {
	t.Helper()
	e, err := policies.New(t.Context(), policies.Options{Library: []policies.Source{}, Custom: testPolicies})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type testObject struct {
	apiVersion, kind, namespace, name string
	labels, annotations, data         map[string]any
}

func (o testObject) build() map[string]any {
	meta := map[string]any{"name": o.name, "uid": "uid-" + o.namespace + "-" + o.name}
	if o.namespace != "" {
		meta["namespace"] = o.namespace
	}
	if o.labels != nil {
		meta["labels"] = o.labels
	}
	if o.annotations != nil {
		meta["annotations"] = o.annotations
	}
	obj := map[string]any{"apiVersion": o.apiVersion, "kind": o.kind, "metadata": meta}
	if o.data != nil {
		obj["data"] = o.data
	}
	return obj
}

func namespace(name string, labels map[string]any) map[string]any {
	return testObject{apiVersion: "v1", kind: "Namespace", name: name, labels: labels}.build()
}

func configMap(ns, name string, labels, annotations, data map[string]any) map[string]any {
	return testObject{apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: name, labels: labels, annotations: annotations, data: data}.build()
}

var team = map[string]any{"team": "a"}

// clusterObjects is a small cluster: see TestAuditWritesReports for what
// each object should produce.
func clusterObjects() []map[string]any {
	return []map[string]any{
		namespace("shop", team),
		namespace("lab", nil),
		namespace("kube-system", nil),
		configMap("shop", "good", team, nil, map[string]any{"ok": "1"}),
		configMap("shop", "bad", nil, nil, map[string]any{"bad": "1"}),
		configMap("lab", "quiet", team, map[string]any{policies.SuppressAnnotation: "OLD001"}, map[string]any{"bad": "1"}),
		configMap("lab", "boom", team, nil, nil),
		configMap("kube-system", "bad", nil, nil, map[string]any{"bad": "1"}),
		testObject{apiVersion: "v1", kind: "Secret", namespace: "shop", name: "s"}.build(),
		{"metadata": map[string]any{"name": "kindless"}},
	}
}

// testSource is a Source whose objects tests replace.
type testSource struct {
	mu      sync.Mutex
	objects []map[string]any
	changed chan struct{}
}

func newTestSource(objects []map[string]any) *testSource {
	return &testSource{objects: objects, changed: make(chan struct{}, 1)}
}

func (s *testSource) Objects() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.objects)
}

func (s *testSource) Subscribe() <-chan struct{} { return s.changed }

func (s *testSource) set(objects []map[string]any) {
	s.mu.Lock()
	s.objects = objects
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func newFakeClient(t *testing.T, objs ...client.Object) client.WithWatch {
	return fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(objs...).Build()
}

// testClock is a settable clock for report timestamps and Event limits.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func newTestAuditor(t *testing.T, cfg Config) (*Auditor, *testClock) {
	t.Helper()
	if cfg.Engine == nil {
		cfg.Engine = testEngine(t)
	}
	if cfg.ExcludedNamespaces == nil {
		cfg.ExcludedNamespaces = []string{"kube-system"}
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a.now = clock.now
	return a, clock
}

func runOnce(t *testing.T, a *Auditor) {
	t.Helper()
	if err := a.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// describeResults writes each result as "result policy severity
// namespace/Kind/name: message", the way the tests compare them.
func describeResults(results []v1alpha1.ReportResult) []string {
	var out []string
	for _, r := range results {
		var subjects []string
		for _, s := range r.Subjects {
			subjects = append(subjects, s.Namespace+"/"+s.Kind+"/"+s.Name)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s: %s", r.Result, r.Policy, r.Severity, strings.Join(subjects, ","), r.Description))
	}
	return out
}

func getReport(t *testing.T, c client.Client, ns string) *v1alpha1.Report {
	t.Helper()
	r := &v1alpha1.Report{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ReportName}, r); err != nil {
		t.Fatalf("report of %s: %v", ns, err)
	}
	return r
}

func getClusterReport(t *testing.T, c client.Client) *v1alpha1.ClusterReport {
	t.Helper()
	r := &v1alpha1.ClusterReport{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: ReportName}, r); err != nil {
		t.Fatalf("cluster report: %v", err)
	}
	return r
}
