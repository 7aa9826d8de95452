package audit

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

func TestAuditWritesReports(t *testing.T) {
	managed := map[string]string{ManagedByLabel: ManagedBy}
	c := newFakeClient(t,
		// Ours, in a namespace with nothing left to audit: deleted.
		&v1alpha1.Report{ObjectMeta: metav1.ObjectMeta{Name: ReportName, Namespace: "gone", Labels: managed}},
		// Ours, in an excluded namespace: deleted.
		&v1alpha1.Report{ObjectMeta: metav1.ObjectMeta{Name: ReportName, Namespace: "kube-system", Labels: managed}},
		// Someone else's reports: kept.
		&v1alpha1.Report{ObjectMeta: metav1.ObjectMeta{Name: "kyverno", Namespace: "gone"}},
		&v1alpha1.Report{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "gone", Labels: managed}},
	)
	a, clock := newTestAuditor(t, Config{Source: newTestSource(clusterObjects()), Client: c})
	runOnce(t, a)

	tests := []struct {
		namespace   string
		wantSummary v1alpha1.ReportSummary
		wantResults []string
	}{
		{"shop", v1alpha1.ReportSummary{Pass: 4, Fail: 1, Warn: 1}, []string{
			"fail ACME001 high shop/ConfigMap/bad: bad has the key bad",
			"warn ACME002 medium shop/ConfigMap/bad: no team label",
		}},
		// quiet suppresses ACME001 by its alias; boom breaks ACME004.
		{"lab", v1alpha1.ReportSummary{Pass: 4, Error: 1, Skip: 1}, []string{
			"error ACME004 high lab/ConfigMap/boom: evaluating ACME004 on ConfigMap lab/boom: ",
		}},
		{"", v1alpha1.ReportSummary{Pass: 1, Fail: 1}, []string{
			"fail ACME003 high /Namespace/lab: namespace lab has no team label",
		}},
	}
	for _, tt := range tests {
		t.Run("scope "+tt.namespace, func(t *testing.T) {
			var got content
			var labels map[string]string
			if tt.namespace == "" {
				r := getClusterReport(t, c)
				got, labels = contentOf(r), r.Labels
			} else {
				r := getReport(t, c, tt.namespace)
				got, labels = contentOf(r), r.Labels
			}
			if labels[ManagedByLabel] != ManagedBy || got.Source != SourceName {
				t.Errorf("labels %v, source %q: want %s=%s and source %s", labels, got.Source, ManagedByLabel, ManagedBy, SourceName)
			}
			if got.Summary != tt.wantSummary {
				t.Errorf("summary %+v, want %+v", got.Summary, tt.wantSummary)
			}
			results := describeResults(got.Results)
			if len(results) != len(tt.wantResults) {
				t.Fatalf("results:\n%s\nwant:\n%s", strings.Join(results, "\n"), strings.Join(tt.wantResults, "\n"))
			}
			for i := range results {
				if !strings.HasPrefix(results[i], tt.wantResults[i]) {
					t.Errorf("result %d: %q, want it to start with %q", i, results[i], tt.wantResults[i])
				}
			}
		})
	}

	t.Run("result fields", func(t *testing.T) {
		got := getReport(t, c, "shop").Results[0]
		want := v1alpha1.ReportResult{
			Source: SourceName, Policy: "ACME001", Rule: "Test policy bad_key", Category: "custom",
			Severity: "high", Result: "fail", Scored: true,
			Timestamp:   metav1.Timestamp{Seconds: clock.t.Unix()},
			Subjects:    []corev1.ObjectReference{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "bad", UID: "uid-shop-bad"}},
			Description: "bad has the key bad",
			Properties:  map[string]string{"enforcement": "deny", "aliases": "OLD001"},
		}
		if !equalResults(got, want) {
			t.Errorf("result\n%+v\nwant\n%+v", got, want)
		}
	})

	t.Run("reports of other namespaces", func(t *testing.T) {
		var list v1alpha1.ReportList
		if err := c.List(context.Background(), &list); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range list.Items {
			got = append(got, r.Namespace+"/"+r.Name)
		}
		slices.Sort(got)
		want := []string{"gone/kyverno", "gone/other", "lab/" + ReportName, "shop/" + ReportName}
		if !slices.Equal(got, want) {
			t.Errorf("reports %v, want %v", got, want)
		}
	})
}

func equalResults(a, b v1alpha1.ReportResult) bool {
	return a.Source == b.Source && a.Policy == b.Policy && a.Rule == b.Rule && a.Category == b.Category &&
		a.Severity == b.Severity && a.Result == b.Result && a.Scored == b.Scored && a.Timestamp == b.Timestamp &&
		slices.Equal(a.Subjects, b.Subjects) && a.Description == b.Description &&
		len(a.Properties) == len(b.Properties) && a.Properties["enforcement"] == b.Properties["enforcement"] &&
		a.Properties["aliases"] == b.Properties["aliases"]
}

// Fixing objects clears their results at the next audit; a namespace with
// nothing left to audit loses its report, and the ClusterReport goes when
// no cluster-scoped object is left.
func TestAuditFollowsTheCluster(t *testing.T) {
	c := newFakeClient(t)
	src := newTestSource(clusterObjects())
	a, _ := newTestAuditor(t, Config{Source: src, Client: c})
	runOnce(t, a)

	src.set([]map[string]any{
		namespace("shop", team),
		configMap("shop", "good", team, nil, nil),
		configMap("shop", "bad", team, nil, nil), // fixed
	})
	runOnce(t, a)
	shop := getReport(t, c, "shop")
	if want := (v1alpha1.ReportSummary{Pass: 6}); shop.Summary != want || len(shop.Results) != 0 {
		t.Errorf("shop after the fix: summary %+v, results %q; want %+v and no results", shop.Summary, describeResults(shop.Results), want)
	}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "lab", Name: ReportName}, &v1alpha1.Report{}); !apierrors.IsNotFound(err) {
		t.Errorf("report of lab, whose objects are gone: got %v, want not found", err)
	}
	if cr := getClusterReport(t, c); cr.Summary != (v1alpha1.ReportSummary{Pass: 1}) || len(cr.Results) != 0 {
		t.Errorf("cluster report: summary %+v, results %q; want one pass", cr.Summary, describeResults(cr.Results))
	}

	src.set([]map[string]any{configMap("shop", "good", team, nil, nil)})
	runOnce(t, a)
	if err := c.Get(context.Background(), client.ObjectKey{Name: ReportName}, &v1alpha1.ClusterReport{}); !apierrors.IsNotFound(err) {
		t.Errorf("cluster report with no cluster-scoped object left: got %v, want not found", err)
	}
}

// An audit that finds what the last one found writes nothing, and a result
// keeps the time it was first found.
func TestAuditWritesOnlyChanges(t *testing.T) {
	c := newFakeClient(t)
	src := newTestSource(clusterObjects())
	a, clock := newTestAuditor(t, Config{Source: src, Client: c})
	first := clock.t
	runOnce(t, a)
	before := getReport(t, c, "shop").ResourceVersion

	clock.t = clock.t.Add(time.Minute)
	runOnce(t, a)
	if after := getReport(t, c, "shop").ResourceVersion; after != before {
		t.Errorf("resourceVersion %s -> %s: an unchanged audit rewrote the report", before, after)
	}

	// A new violation in the namespace rewrites it; the old result keeps its time.
	clock.t = clock.t.Add(time.Minute)
	src.set(append(clusterObjects(), configMap("shop", "worse", team, nil, map[string]any{"bad": "1"})))
	runOnce(t, a)
	stamps := map[string]int64{}
	for _, r := range getReport(t, c, "shop").Results {
		stamps[r.Policy+" "+r.Subjects[0].Name] = r.Timestamp.Seconds
	}
	want := map[string]int64{"ACME001 bad": first.Unix(), "ACME002 bad": first.Unix(), "ACME001 worse": clock.t.Unix()}
	if len(stamps) != len(want) {
		t.Fatalf("results %v, want %v", stamps, want)
	}
	for k, v := range want {
		if stamps[k] != v {
			t.Errorf("timestamp of %s: %d, want %d", k, stamps[k], v)
		}
	}
}

func TestAuditCapsResultsPerReport(t *testing.T) {
	c := newFakeClient(t)
	a, _ := newTestAuditor(t, Config{Source: newTestSource(clusterObjects()), Client: c, MaxResultsPerReport: 1})
	runOnce(t, a)
	r := getReport(t, c, "shop")
	if got := describeResults(r.Results); len(got) != 1 || !strings.HasPrefix(got[0], "fail ACME001") {
		t.Errorf("results %q, want only the failure", got)
	}
	if r.Configuration == nil || r.Configuration.Limits.MaxResults != 1 {
		t.Errorf("configuration %+v, want limits.maxResults 1", r.Configuration)
	}
	if want := (v1alpha1.ReportSummary{Pass: 4, Fail: 1, Warn: 1}); r.Summary != want {
		t.Errorf("summary %+v, want every result counted: %+v", r.Summary, want)
	}
}

func TestAuditNamespaceSelector(t *testing.T) {
	c := newFakeClient(t)
	sel, err := labels.Parse("team")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := newTestAuditor(t, Config{Source: newTestSource(clusterObjects()), Client: c, NamespaceSelector: sel})
	runOnce(t, a)
	var list v1alpha1.ReportList
	if err := c.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Namespace != "shop" {
		t.Errorf("reports %v, want shop's only (lab has no team label)", list.Items)
	}
	if cr := getClusterReport(t, c); cr.Summary != (v1alpha1.ReportSummary{Pass: 1}) {
		t.Errorf("cluster report summary %+v, want the shop Namespace's pass only", cr.Summary)
	}
}

// Without the OpenReports CRDs the audit says so, and AuditLastRun does not move.
func TestAuditWithoutCRDs(t *testing.T) {
	noMatch := &meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: v1alpha1.GroupName, Kind: "Report"}}
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return noMatch
		},
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error { return noMatch },
	}).Build()
	m := newTestMetrics()
	a, _ := newTestAuditor(t, Config{Source: newTestSource(clusterObjects()), Client: c, Metrics: m})
	err := a.RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "OpenReports CRDs") || !meta.IsNoMatchError(err) {
		t.Fatalf("got %v, want an error naming the missing OpenReports CRDs", err)
	}
	if got := gaugeValue(t, m.AuditLastRun); got != 0 {
		t.Errorf("AuditLastRun %v after a failed write, want 0", got)
	}
	if got := gaugeValue(t, m.AuditViolations.WithLabelValues("ACME001", "error")); got != 1 {
		t.Errorf("AuditViolations{ACME001,error} %v, want 1: the evaluation still counts", got)
	}
}

func TestNewChecksConfig(t *testing.T) {
	engine := testEngine(t)
	src := newTestSource(nil)
	c := newFakeClient(t)
	bare := fake.NewClientBuilder().WithScheme(runtime.NewScheme()).Build()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing", Config{}, "[Engine Source Client] required"},
		{"no client", Config{Engine: engine, Source: src}, "[Client] required"},
		{"scheme without reports", Config{Engine: engine, Source: src, Client: bare}, "audit.AddToScheme"},
		{"negative interval", Config{Engine: engine, Source: src, Client: c, Interval: -time.Second}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	a, err := New(Config{Engine: engine, Source: src, Client: c})
	if err != nil {
		t.Fatal(err)
	}
	if a.cfg.Interval != DefaultInterval || a.cfg.Debounce != DefaultDebounce || a.cfg.MaxEventsPerRun != DefaultMaxEventsPerRun ||
		a.cfg.EventInterval != DefaultEventInterval || a.cfg.MaxResultsPerReport != DefaultMaxResultsPerReport {
		t.Errorf("defaults not applied: %+v", a.cfg)
	}
	if !a.NeedLeaderElection() {
		t.Error("the audit must run on the leader only")
	}
}

// Start audits at once, again after a change, and returns when its context ends.
func TestStartAuditsAtOnceAndOnChange(t *testing.T) {
	c := newFakeClient(t)
	src := newTestSource(clusterObjects())
	a, _ := newTestAuditor(t, Config{Source: src, Client: c, Interval: time.Hour, Debounce: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start returned %v after its context ended, want nil", err)
		}
	}()

	waitForReport(t, c, "lab", true)
	src.set([]map[string]any{namespace("shop", team)})
	waitForReport(t, c, "lab", false)

	// Trigger, as after a policy change, audits without a signal from the source.
	src.mu.Lock()
	src.objects = clusterObjects()
	src.mu.Unlock()
	a.Trigger()
	waitForReport(t, c, "lab", true)
}

func waitForReport(t *testing.T, c client.Client, ns string, exists bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: ReportName}, &v1alpha1.Report{})
		if err != nil && !apierrors.IsNotFound(err) {
			return false, err
		}
		return (err == nil) == exists, nil
	})
	if err != nil {
		t.Fatalf("report of %s exists=%v: %v", ns, exists, err)
	}
}

// syncingSource is a Source that has not synced until told so.
type syncingSource struct {
	*testSource
	synced atomic.Bool
	polls  atomic.Int32
}

func (s *syncingSource) Synced() bool {
	s.polls.Add(1)
	return s.synced.Load()
}

// The first audit waits for the source to sync: an audit of a half-filled
// cache would delete reports.
func TestStartWaitsForTheSourceToSync(t *testing.T) {
	c := newFakeClient(t)
	src := &syncingSource{testSource: newTestSource(clusterObjects())}
	a, _ := newTestAuditor(t, Config{Source: src, Client: c, Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Start(ctx) }()
	defer func() {
		cancel()
		_ = <-done
	}()

	err := wait.PollUntilContextTimeout(ctx, time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return src.polls.Load() >= 2, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Start polled twice and is still waiting: it has audited nothing.
	var list v1alpha1.ReportList
	if err := c.List(ctx, &list); err != nil || len(list.Items) != 0 {
		t.Fatalf("reports before the source synced: %v %v", list.Items, err)
	}
	src.synced.Store(true)
	waitForReport(t, c, "lab", true)
}
