package policies

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// slowBody is a policy that runs for many seconds: a comprehension over
// 25 million pairs, which Rego's compiler accepts (it refuses recursion only).
const slowBody = `violation contains {"msg": sprintf("counted %d", [n])} if {
	n := count([1 | some i in numbers.range(1, 5000); some j in numbers.range(1, 5000); i != j])
	n > 0
}
`

// A policy that runs past its deadline fails alone, named, with a
// *DeadlineError; the others' findings still come back, on the combined
// query's route and on a wildcard route alike, review after review.
func TestPolicyDeadline(t *testing.T) {
	meta := func(id, kinds string, met bool) string {
		m := "#   id: " + id + "\n#   severity: error\n#   enforcement: deny\n#   kinds: [" + kinds + "]"
		if met {
			m += "\n#   requires: {labels: [team]}"
		}
		return m
	}
	tests := []struct {
		name, kinds string
		met         bool // the policies require a label the ConfigMap has
	}{
		{"combined route", "ConfigMap", false},
		{"wildcard route", "\"*\"", false},
		{"requirements met", "ConfigMap", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(context.Background(), Options{
				Library:       []Source{},
				PolicyTimeout: 50 * time.Millisecond,
				Custom: []Source{
					policy("configmap/acme/fast.rego", "acme.fast", meta("ACME001", tc.kinds, tc.met), alwaysBody),
					policy("configmap/acme/slow.rego", "acme.slow", meta("ACME002", tc.kinds, tc.met), slowBody),
					policy("configmap/acme/fast2.rego", "acme.fast2", meta("ACME003", tc.kinds, tc.met), alwaysBody),
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			cm := object("v1", "ConfigMap", "ns", "cm", nil)
			cm["metadata"].(map[string]any)["labels"] = map[string]any{"team": "a"}
			for round := range 3 {
				findings, err := e.Review(context.Background(), &Review{Kind: "ConfigMap", Version: "v1", Namespace: "ns", Name: "cm",
					Operation: "CREATE", Object: value(cm)})
				if got := ids(findings); !slices.Equal(got, []string{"ACME001", "ACME003"}) {
					t.Errorf("round %d: findings of %v, want those of the fast policies ACME001 and ACME003", round, got)
				}
				pe, ok := errors.AsType[*PolicyError](err)
				if !ok || pe.PolicyID != "ACME002" {
					t.Fatalf("round %d: error = %v, want ACME002's *PolicyError", round, err)
				}
				de, ok := errors.AsType[*DeadlineError](err)
				if !ok || de.Timeout != 50*time.Millisecond {
					t.Fatalf("round %d: error = %v, want a *DeadlineError of 50ms", round, err)
				}
				if want := "evaluating ACME002 on ConfigMap ns/cm: ran past its deadline of 50ms and was cut off"; err.Error() != want {
					t.Errorf("round %d: error = %q, want %q", round, err, want)
				}
				// The first cut off alone leaves the route's combined query
				// out: the slow policy then costs one deadline, not two.
				if got, want := CombinedIsSlow(e, "", "ConfigMap", "CREATE"), tc.kinds == "ConfigMap" && !tc.met; got != want {
					t.Errorf("round %d: combined query left out: %v, want %v", round, got, want)
				}
				if prepared, slow := MetQueries(e); tc.met && (prepared != 1 || slow != 1) {
					t.Errorf("round %d: %d queries of policies whose requirements were met, %d left out; want the one, left out", round, prepared, slow)
				}
			}
		})
	}
}

// The review's own deadline is not a policy's: a review cut off by its
// caller reports the context's error, not a *DeadlineError.
func TestReviewDeadlineIsNotAPolicyDeadline(t *testing.T) {
	e, err := New(context.Background(), Options{
		Library:       []Source{},
		PolicyTimeout: time.Hour,
		Custom: []Source{policy("configmap/acme/slow.rego", "acme.slow",
			"#   id: ACME002\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", slowBody)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = e.Review(ctx, &Review{Kind: "ConfigMap", Version: "v1", Name: "cm", Operation: "CREATE",
		Object: value(object("v1", "ConfigMap", "ns", "cm", nil))})
	if _, ok := errors.AsType[*DeadlineError](err); ok || err == nil {
		t.Fatalf("error = %v, want the review's cancellation", err)
	}
}
