// Package webhookbench measures the admission webhook: under load over
// HTTPS with fortio, side by side with a no-op webhook on the same core in
// the same run, against Gatekeeper, and per review in process against the
// floor of trivial policies (issue 15, docs/architecture.md, "Measuring
// performance"). `make bench` runs it. This file holds what the benchmark
// server (./server) and the benchmarks share.
package webhookbench

import (
	"bytes"
	"context"
	"fmt"

	"github.com/kubectl-mesh/kubectl-mesh/internal/meshgen"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
)

// InventoryNamespaces is how many generated namespaces (meshgen) the
// benchmark inventory holds: 500 Istio objects and their Services,
// Deployments and Namespaces.
const InventoryNamespaces = 10

// NewEngine compiles opts and gives the engine the Services, Deployments
// and Istio objects of namespaces generated namespaces, as the webhook's
// informers would.
func NewEngine(ctx context.Context, opts policies.Options, namespaces int) (*policies.Engine, error) {
	engine, err := policies.New(ctx, opts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := meshgen.Write(&buf, namespaces); err != nil {
		return nil, err
	}
	objects, errs := manifest.Read("inventory.yaml", &buf)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	inv := policies.NewInventory()
	for _, obj := range objects {
		inv.Add(obj.Content)
	}
	return engine, engine.SetInventory(ctx, inv)
}

// LibraryPoliciesFor counts the library's policies that review an UPDATE
// of group/kind: what the floor has as many trivial policies as.
func LibraryPoliciesFor(ctx context.Context, group, kind string) (int, error) {
	engine, err := policies.New(ctx, policies.Options{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range engine.Policies() {
		if m.Matches(group, kind, "UPDATE") {
			n++
		}
	}
	return n, nil
}

// FloorPolicies returns n policies that each walk the destinations of
// every HTTP route of a VirtualService once and find nothing: the least
// any n policies reviewing a VirtualService can cost (issue 15's floor).
func FloorPolicies(n int) []policies.Source {
	out := make([]policies.Source, n)
	for i := range n {
		out[i] = policies.Source{Name: fmt.Sprintf("floor/p%02d.rego", i), Text: fmt.Sprintf(`# METADATA
# title: Floor %[1]d
# description: Walks every route destination once and finds nothing.
# custom:
#   id: FLOOR%03[1]d
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService]
#   operations: [CREATE, UPDATE]
#   remediation: None.
package floor.p%02[1]d

import rego.v1

violation contains {"msg": "found"} if {
	some route in input.review.object.spec.http
	some d in route.route
	d.destination.host == "absent-%[1]d"
}
`, i)}
	}
	return out
}
