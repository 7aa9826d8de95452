package policies

import (
	"context"
	"encoding/json"
	"testing"
)

// input.review.options is the request's options object as it came, and {}
// for reviews built offline, so policies can read it without a guard.
func TestReviewOptionsReachRego(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, policy("p/options.rego", "acme.options",
		"#   id: ACME001\n#   severity: info\n#   enforcement: audit\n#   kinds: [ConfigMap]\n#   operations: [CREATE, UPDATE, DELETE]",
		`violation contains {"msg": json.marshal(input.review.options)} if true`+"\n"))
	cm := value(object("v1", "ConfigMap", "default", "cm", nil))
	tests := []struct {
		name   string
		review *Review
		want   string
	}{
		{"offline review has empty options", NewReview(cm, nil), `{}`},
		{"update options", &Review{Version: "v1", Kind: "ConfigMap", Name: "cm", Namespace: "default", Operation: "UPDATE",
			Object: cm, OldObject: cm,
			Options: value(map[string]any{"apiVersion": "meta.k8s.io/v1", "kind": "UpdateOptions", "fieldManager": "kubectl-patch"})},
			`{"apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-patch","kind":"UpdateOptions"}`},
		{"delete options keep exact numbers", &Review{Version: "v1", Kind: "ConfigMap", Name: "cm", Namespace: "default", Operation: "DELETE",
			OldObject: cm,
			Options:   value(map[string]any{"kind": "DeleteOptions", "gracePeriodSeconds": json.Number("9007199254740993"), "propagationPolicy": "Background"})},
			`{"gracePeriodSeconds":9007199254740993,"kind":"DeleteOptions","propagationPolicy":"Background"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := e.Review(ctx, tt.review)
			if err != nil {
				t.Fatal(err)
			}
			if len(findings) != 1 || findings[0].Message != tt.want {
				t.Fatalf("findings %+v, want one with message %s", findings, tt.want)
			}
		})
	}
}
