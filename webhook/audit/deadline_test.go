package audit

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

// A policy cut off at its deadline is an error result naming the deadline
// in the report, and counted, while the other policies' results stand.
// slowPolicy runs for seconds on every ConfigMap.
var slowPolicy = testPolicy("slow", "#   id: ACME900\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]",
	`violation contains {"msg": sprintf("counted %d", [n])} if {
	n := count([1 | some i in numbers.range(1, 5000); some j in numbers.range(1, 5000); i != j])
	n > 0
}
`)

func TestAuditReportsPolicyDeadline(t *testing.T) {
	engine, err := policies.New(t.Context(), policies.Options{Library: []policies.Source{}, Custom: append(testPolicies[:2:2], slowPolicy), PolicyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	c := newFakeClient(t)
	objects := []map[string]any{namespace("shop", nil), configMap("shop", "bad", map[string]any{"team": "a"}, nil, map[string]any{"bad": "x"})}
	a, _ := newTestAuditor(t, Config{Source: newTestSource(objects), Client: c, Engine: engine, Metrics: m})
	runOnce(t, a)

	results := describeResults(getReport(t, c, "shop").Results)
	want := []string{
		"fail ACME001 high shop/ConfigMap/bad: bad has the key bad",
		"error ACME900 high shop/ConfigMap/bad: evaluating ACME900 on ConfigMap shop/bad: ran past its deadline of 20ms and was cut off",
	}
	if strings.Join(results, "\n") != strings.Join(want, "\n") {
		t.Errorf("results:\n%s\nwant:\n%s", strings.Join(results, "\n"), strings.Join(want, "\n"))
	}
	if got := testutil.ToFloat64(m.PolicyTimeouts.WithLabelValues("ACME900", "audit")); got != 1 {
		t.Errorf("policy timeouts{ACME900,audit} = %v, want 1", got)
	}
}

// A policy cut off on maxCutOffs objects is left out of the rest of the
// audit, each object it was not evaluated on an error result saying why:
// the slow policy costs its deadline three times, not once per object.
func TestAuditLeavesOutAPolicyCutOffAgainAndAgain(t *testing.T) {
	engine, err := policies.New(t.Context(), policies.Options{Library: []policies.Source{}, Custom: append(testPolicies[:1:1], slowPolicy), PolicyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	c := newFakeClient(t)
	objects := []map[string]any{namespace("shop", nil)}
	for i := range 6 {
		objects = append(objects, configMap("shop", fmt.Sprintf("cm%d", i), map[string]any{"team": "a"}, nil, map[string]any{"bad": "x"}))
	}
	a, _ := newTestAuditor(t, Config{Source: newTestSource(objects), Client: c, Engine: engine, Metrics: m})
	runOnce(t, a)

	var cut, left, failed int
	for _, r := range describeResults(getReport(t, c, "shop").Results) {
		switch {
		case strings.HasPrefix(r, "error ACME900") && strings.HasSuffix(r, "ran past its deadline of 20ms and was cut off"):
			cut++
		case strings.HasPrefix(r, "error ACME900") && strings.HasSuffix(r, "not evaluated: ACME900 ran past its deadline on 3 objects earlier in this audit"):
			left++
		case strings.HasPrefix(r, "fail ACME001"):
			failed++
		default:
			t.Errorf("unexpected result %q", r)
		}
	}
	if cut != maxCutOffs || left != 6-maxCutOffs || failed != 6 {
		t.Errorf("%d cut off, %d left out, %d ACME001 failures; want %d, %d, 6", cut, left, failed, maxCutOffs, 6-maxCutOffs)
	}
	if got := testutil.ToFloat64(m.PolicyTimeouts.WithLabelValues("ACME900", "audit")); got != maxCutOffs {
		t.Errorf("policy timeouts{ACME900,audit} = %v, want %d: the policy was evaluated after it was left out", got, maxCutOffs)
	}
}
