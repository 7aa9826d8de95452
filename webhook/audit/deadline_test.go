package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

// A policy cut off at its deadline is an error result naming the deadline
// in the report, and counted, while the other policies' results stand.
func TestAuditReportsPolicyDeadline(t *testing.T) {
	slow := testPolicy("slow", "#   id: ACME900\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]",
		`violation contains {"msg": sprintf("counted %d", [n])} if {
	n := count([1 | some i in numbers.range(1, 5000); some j in numbers.range(1, 5000); i != j])
	n > 0
}
`)
	engine, err := policies.New(t.Context(), policies.Options{Library: []policies.Source{}, Custom: append(testPolicies[:2:2], slow), PolicyTimeout: 20 * time.Millisecond})
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
