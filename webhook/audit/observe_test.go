package audit

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

func newTestMetrics() *metrics.Metrics { return metrics.New() }

func gaugeValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	return testutil.ToFloat64(c)
}

func auditRuns(t *testing.T, m *metrics.Metrics) uint64 {
	t.Helper()
	var d dto.Metric
	if err := m.AuditDuration.Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetHistogram().GetSampleCount()
}

func TestAuditMetrics(t *testing.T) {
	m := newTestMetrics()
	src := newTestSource(clusterObjects())
	a, clock := newTestAuditor(t, Config{Source: src, Client: newFakeClient(t), Metrics: m})
	violations := func(policy, severity string) float64 {
		return gaugeValue(t, m.Violations.WithLabelValues(policy, severity, "audit"))
	}

	runOnce(t, a)
	for _, tt := range []struct {
		policy, severity string
	}{{"ACME001", "error"}, {"ACME002", "warning"}, {"ACME003", "error"}} {
		if got := gaugeValue(t, m.AuditViolations.WithLabelValues(tt.policy, tt.severity)); got != 1 {
			t.Errorf("AuditViolations{%s,%s} = %v, want 1", tt.policy, tt.severity, got)
		}
	}
	if got := testutil.CollectAndCount(m.AuditViolations); got != 3 {
		t.Errorf("%d AuditViolations series, want 3 (an evaluation error is not a violation)", got)
	}
	if got := gaugeValue(t, m.AuditLastRun); got != float64(clock.t.Unix()) {
		t.Errorf("AuditLastRun %v, want %d", got, clock.t.Unix())
	}

	// The same violations again: the counter counts each once.
	clock.t = clock.t.Add(time.Minute)
	runOnce(t, a)
	if got := violations("ACME001", "error"); got != 1 {
		t.Errorf("Violations{ACME001,error,audit} = %v after finding the same violation twice, want 1", got)
	}
	if got := auditRuns(t, m); got != 2 {
		t.Errorf("AuditDuration has %d samples, want 2", got)
	}

	// Fixed: the gauge forgets it. Broken again: counted again.
	objects := clusterObjects()
	objects[4] = configMap("shop", "bad", team, nil, nil)
	src.set(objects)
	runOnce(t, a)
	if got := testutil.CollectAndCount(m.AuditViolations); got != 1 {
		t.Errorf("%d AuditViolations series after the ConfigMaps were fixed, want 1 (ACME003)", got)
	}
	src.set(clusterObjects())
	runOnce(t, a)
	if got := violations("ACME001", "error"); got != 2 {
		t.Errorf("Violations{ACME001,error,audit} = %v after the violation came back, want 2", got)
	}
}

// recordedEvent is one Eventf call.
type recordedEvent struct {
	regarding corev1.ObjectReference
	line      string
}

// eventRecorder records Eventf calls.
type eventRecorder struct {
	mu     sync.Mutex
	events []recordedEvent
}

func (r *eventRecorder) Eventf(regarding, _ runtime.Object, eventtype, reason, action, note string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, _ := regarding.(*corev1.ObjectReference)
	var e recordedEvent
	if ref != nil {
		e.regarding = *ref
	}
	e.line = eventtype + " " + reason + " " + action + " " + fmt.Sprintf(note, args...)
	r.events = append(r.events, e)
}

// take returns the events recorded since the last call.
func (r *eventRecorder) take() []recordedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func lines(events []recordedEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.line)
	}
	return out
}

func TestAuditEventsAreRateLimited(t *testing.T) {
	rec := &eventRecorder{}
	a, clock := newTestAuditor(t, Config{Source: newTestSource(clusterObjects()), Client: newFakeClient(t), Recorder: rec, MaxEventsPerRun: 2})
	failures := []string{
		"Warning PolicyViolation Audit ACME001: bad has the key bad",
		"Warning PolicyViolation Audit ACME003: namespace lab has no team label",
	}
	warning := []string{"Warning PolicyViolation Audit ACME002: no team label"}

	runOnce(t, a)
	got := rec.take()
	if !slices.Equal(lines(got), failures) {
		t.Fatalf("first audit's events:\n%s\nwant failures first, two at most:\n%s", strings.Join(lines(got), "\n"), strings.Join(failures, "\n"))
	}
	want := corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "bad", UID: "uid-shop-bad"}
	if got[0].regarding != want {
		t.Errorf("event regarding %+v, want %+v", got[0].regarding, want)
	}

	steps := []struct {
		name  string
		after time.Duration
		want  []string
	}{
		{"the one over the cap comes next", time.Minute, warning},
		{"nothing new within the hour", time.Minute, nil},
		{"again an hour after the first", time.Hour - time.Minute, failures},
	}
	for _, step := range steps {
		clock.t = clock.t.Add(step.after)
		runOnce(t, a)
		if got := lines(rec.take()); !slices.Equal(got, step.want) {
			t.Errorf("%s: events %q, want %q", step.name, got, step.want)
		}
	}

	off, _ := newTestAuditor(t, Config{Source: newTestSource(clusterObjects()), Client: newFakeClient(t), Recorder: rec, MaxEventsPerRun: -1})
	runOnce(t, off)
	if got := rec.take(); len(got) != 0 {
		t.Errorf("MaxEventsPerRun -1 sent %q", lines(got))
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a longer note", 10, "a longe..."},
		{"ééééé", 8, "éé..."}, // never cuts a rune in two
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want || len(got) > tt.n {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
