package custompolicy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

// recordedEvent is one Event the loader recorded.
type recordedEvent struct{ object, eventType, reason, note string }

type fakeRecorder struct {
	mu     sync.Mutex
	events []recordedEvent
}

func (r *fakeRecorder) Eventf(regarding, _ runtime.Object, eventType, reason, _, note string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cm := regarding.(*corev1.ConfigMap)
	r.events = append(r.events, recordedEvent{cm.Name, eventType, reason, fmt.Sprintf(note, args...)})
}

// take returns the events recorded since the last take.
func (r *fakeRecorder) take() []recordedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// regoPolicy is a custom policy reporting every Service named "bad".
func regoPolicy(id, pkg string) string {
	return `# METADATA
# title: Test policy ` + id + `
# description: Reports Services named bad.
# custom:
#   id: ` + id + `
#   severity: error
#   enforcement: deny
#   kinds: [Service]
package ` + pkg + `

import rego.v1

violation contains {"msg": "` + id + ` saw a bad Service"} if input.review.object.metadata.name == "bad"
`
}

// badRego fails to parse: the rule is never closed (unexpected eof, line 6).
const badRego = "package acme.broken\n\nimport rego.v1\n\nviolation contains {\"msg\": \"x\"} if {\n"

func policyConfigMap(name, rv string, data map[string]string) corev1.ConfigMap {
	return corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "mesh", ResourceVersion: rv, Labels: map[string]string{PolicyLabel: "true"}},
		Data:       data,
	}
}

type loaderFixture struct {
	loader   *Loader
	engine   *policies.Engine
	recorder *fakeRecorder
	metrics  *metrics.Metrics
	onLoad   int
}

func newLoaderFixture(t *testing.T) *loaderFixture {
	t.Helper()
	engine, err := policies.New(context.Background(), policies.Options{Library: []policies.Source{}})
	if err != nil {
		t.Fatal(err)
	}
	f := &loaderFixture{engine: engine, recorder: &fakeRecorder{}, metrics: metrics.New()}
	f.loader = newLoader(Options{Namespace: "mesh", Engine: engine, Recorder: f.recorder, Metrics: f.metrics, OnLoad: func() { f.onLoad++ }})
	return f
}

func (f *loaderFixture) ids() []string {
	var out []string
	for _, p := range f.engine.Policies() {
		out = append(out, p.ID)
	}
	return out
}

// findings reviews a Service named bad and returns the IDs reporting it.
func (f *loaderFixture) findings(t *testing.T) []string {
	t.Helper()
	obj := map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "bad", "namespace": "shop"}}
	found, err := f.engine.Review(context.Background(), policies.NewReview(ast.MustInterfaceToValue(obj), nil))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fd := range found {
		out = append(out, fd.PolicyID)
	}
	return out
}

func (f *loaderFixture) loads(result string) float64 {
	return testutil.ToFloat64(f.metrics.PolicyLoads.WithLabelValues(result))
}

func TestLoaderSwapsRefusesAndRemoves(t *testing.T) {
	ctx := context.Background()
	f := newLoaderFixture(t)
	acme := policyConfigMap("acme", "1", map[string]string{"p.rego": regoPolicy("ACME001", "acme.p")})
	team := policyConfigMap("team", "1", map[string]string{"q.rego": regoPolicy("TEAM001", "team.q")})

	// Good: swapped in, Events, metrics.
	f.loader.Load(ctx, []corev1.ConfigMap{acme, team})
	if got := f.findings(t); !slices.Equal(got, []string{"ACME001", "TEAM001"}) {
		t.Fatalf("findings %q after a good load", got)
	}
	events := f.recorder.take()
	if len(events) != 2 || events[0] != (recordedEvent{"acme", "Normal", ReasonLoaded, "loaded 1 policies: ACME001"}) || events[1].object != "team" {
		t.Errorf("events %+v", events)
	}
	if f.loads("ok") != 1 || f.loads("refused") != 0 || testutil.ToFloat64(f.metrics.PoliciesLoaded) != 2 || f.onLoad != 1 {
		t.Errorf("ok %v refused %v loaded %v onLoad %d", f.loads("ok"), f.loads("refused"), testutil.ToFloat64(f.metrics.PoliciesLoaded), f.onLoad)
	}

	// Bad update of acme, good update of team: acme refused with its last
	// good version kept, team's change taken.
	acmeBad := policyConfigMap("acme", "2", map[string]string{"p.rego": badRego})
	team2 := policyConfigMap("team", "2", map[string]string{"q.rego": regoPolicy("TEAM002", "team.q")})
	f.loader.Load(ctx, []corev1.ConfigMap{acmeBad, team2})
	if got := f.ids(); !slices.Equal(got, []string{"ACME001", "TEAM002"}) {
		t.Errorf("policies %q, want acme's last good version and team's new one", got)
	}
	events = f.recorder.take()
	if len(events) != 2 {
		t.Fatalf("events %+v, want PolicyRefused on acme and PolicyLoaded on team", events)
	}
	if e := events[0]; e.object != "acme" || e.eventType != "Warning" || e.reason != ReasonRefused || !strings.Contains(e.note, "configmap/acme/p.rego:6:") {
		t.Errorf("refusal event %+v, want a Warning PolicyRefused on acme naming configmap/acme/p.rego:6", e)
	}
	if e := events[1]; e.object != "team" || e.reason != ReasonLoaded || e.note != "loaded 1 policies: TEAM002" {
		t.Errorf("load event %+v", e)
	}
	if f.loads("refused") != 1 {
		t.Errorf("refused loads %v, want 1", f.loads("refused"))
	}

	// A reload for an unrelated reason does not repeat the Events.
	f.loader.Load(ctx, []corev1.ConfigMap{acmeBad, team2})
	if events := f.recorder.take(); len(events) != 0 {
		t.Errorf("events repeated: %+v", events)
	}

	// A bad new ConfigMap has no last good version: it is simply left out.
	newBad := policyConfigMap("newbad", "1", map[string]string{"x.rego": badRego})
	f.loader.Load(ctx, []corev1.ConfigMap{acmeBad, newBad, team2})
	if got := f.ids(); !slices.Equal(got, []string{"ACME001", "TEAM002"}) {
		t.Errorf("policies %q after a bad new ConfigMap", got)
	}

	// Fixing acme loads it; deleting team and newbad removes team's policy.
	acmeFixed := policyConfigMap("acme", "3", map[string]string{"p.rego": regoPolicy("ACME002", "acme.p")})
	f.loader.Load(ctx, []corev1.ConfigMap{acmeFixed})
	if got := f.findings(t); !slices.Equal(got, []string{"ACME002"}) {
		t.Errorf("findings %q after the fix and the deletion, want ACME002 only", got)
	}
	if testutil.ToFloat64(f.metrics.PoliciesLoaded) != 1 {
		t.Errorf("policies loaded gauge %v, want 1", testutil.ToFloat64(f.metrics.PoliciesLoaded))
	}

	// Deleting the last one leaves no custom policy.
	f.loader.Load(ctx, nil)
	if got := f.ids(); len(got) != 0 {
		t.Errorf("policies %q after every ConfigMap was deleted", got)
	}
}

func TestLoaderDuplicateIDBlamesBoth(t *testing.T) {
	ctx := context.Background()
	f := newLoaderFixture(t)
	a := policyConfigMap("a", "1", map[string]string{"p.rego": regoPolicy("DUP001", "a.p")})
	f.loader.Load(ctx, []corev1.ConfigMap{a})
	f.recorder.take()

	// b reuses a's ID: the error names both files, so both are refused and
	// both keep their last good version (a's; b has none).
	b := policyConfigMap("b", "1", map[string]string{"p.rego": regoPolicy("DUP001", "b.p")})
	f.loader.Load(ctx, []corev1.ConfigMap{a, b})
	if got := f.ids(); !slices.Equal(got, []string{"DUP001"}) {
		t.Errorf("policies %q", got)
	}
	var refused []string
	for _, e := range f.recorder.take() {
		if e.reason == ReasonRefused {
			refused = append(refused, e.object)
		}
	}
	if !slices.Equal(refused, []string{"a", "b"}) {
		t.Errorf("refused %q, want both ConfigMaps the error names", refused)
	}
}

func TestValidate(t *testing.T) {
	ctx := context.Background()
	f := newLoaderFixture(t)
	f.loader.Load(ctx, []corev1.ConfigMap{policyConfigMap("acme", "1", map[string]string{"p.rego": regoPolicy("ACME001", "acme.p")})})

	tests := []struct {
		name    string
		cm      corev1.ConfigMap
		wantErr string // "" for none
	}{
		{"bad Rego names configmap/NAME/KEY:LINE", policyConfigMap("team", "", map[string]string{"bad.rego": badRego}), "configmap/team/bad.rego:6:"},
		{"good new ConfigMap", policyConfigMap("team", "", map[string]string{"q.rego": regoPolicy("TEAM001", "team.q")}), ""},
		{"new version replaces the one in force", policyConfigMap("acme", "", map[string]string{"p.rego": regoPolicy("ACME001", "acme.p")}), ""},
		{"ID already used by another ConfigMap", policyConfigMap("team", "", map[string]string{"q.rego": regoPolicy("ACME001", "team.q")}),
			"policy ID ACME001 is already used by configmap/"},
		{"METADATA missing", policyConfigMap("team", "", map[string]string{"m.rego": "package team.m\n\nimport rego.v1\n\nviolation contains {\"msg\": \"x\"} if false\n"}),
			"configmap/team/m.rego:1: package data.team.m has no METADATA block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.loader.Validate(ctx, &tt.cm)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}

	notOurs := policyConfigMap("elsewhere", "", map[string]string{"bad.rego": badRego})
	notOurs.Namespace = "other"
	if err := f.loader.Validate(ctx, &notOurs); err != nil {
		t.Errorf("a ConfigMap of another namespace was validated: %v", err)
	}
	if got := f.ids(); !slices.Equal(got, []string{"ACME001"}) {
		t.Errorf("validation changed the policies in force: %q", got)
	}
}
