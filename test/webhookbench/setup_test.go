package webhookbench

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	meshadmission "github.com/kubectl-mesh/kubectl-mesh/webhook/admission"
)

// The benchmarks' VirtualService draws no finding from the full library
// (so no confirmation read is ever measured), although the library does
// look up what it names: a missing subset draws MESH1102, and a
// VirtualService of another name for the same host MESH1105.
func TestBenchmarkReviewDrawsNoFinding(t *testing.T) {
	ctx := context.Background()
	engine, err := NewEngine(ctx, policies.Options{}, InventoryNamespaces)
	if err != nil {
		t.Fatal(err)
	}
	h, err := meshadmission.New(meshadmission.Config{Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	payload := virtualServiceReview(t)
	for _, c := range []struct {
		name, from, to, want string
	}{
		{name: "as benchmarked"},
		{name: "missing subset", from: `"subset":"v1"`, to: `"subset":"v9"`, want: "MESH1102"},
		{name: "rival VirtualService", from: `"name":"svc-01","namespace":"team-000"`, to: `"name":"svc-01-canary","namespace":"team-000"`, want: "MESH1105"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := payload
			if c.from != "" {
				if !bytes.Contains(body, []byte(c.from)) {
					t.Fatalf("the review has no %s", c.from)
				}
				body = bytes.ReplaceAll(body, []byte(c.from), []byte(c.to))
			}
			resp := h.Handle(ctx, admissionRequest(t, body))
			if !resp.Allowed {
				t.Fatalf("denied: %+v", resp.Result)
			}
			if c.want == "" && len(resp.Warnings) > 0 {
				t.Fatalf("the benchmark's VirtualService draws findings: %q", resp.Warnings)
			}
			if c.want != "" && !slices.ContainsFunc(resp.Warnings, func(w string) bool { return strings.Contains(w, c.want) }) {
				t.Fatalf("warnings %q, want one from %s", resp.Warnings, c.want)
			}
		})
	}
}

// The floor has as many policies as the library has for a VirtualService,
// and they find nothing on the benchmark's review.
func TestFloorPolicies(t *testing.T) {
	ctx := context.Background()
	n, err := LibraryPoliciesFor(ctx, "networking.istio.io", "VirtualService")
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("the library has %d policies for a VirtualService, want 10 or more", n)
	}
	engine, err := NewEngine(ctx, policies.Options{Library: []policies.Source{}, Custom: FloorPolicies(n)}, InventoryNamespaces)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(engine.Policies()); got != n {
		t.Fatalf("%d floor policies compiled, want %d", got, n)
	}
	h, err := meshadmission.New(meshadmission.Config{Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	if resp := h.Handle(ctx, admissionRequest(t, virtualServiceReview(t))); !resp.Allowed || len(resp.Warnings) > 0 {
		t.Fatalf("the floor finds something: %+v, warnings %q", resp.Result, resp.Warnings)
	}
}
