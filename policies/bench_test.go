package policies_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/profiler"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

func benchVirtualService() map[string]any {
	return map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop"},
		"spec": map[string]any{
			"hosts": []any{"reviews"},
			"http": []any{map[string]any{
				"route": []any{
					map[string]any{"destination": map[string]any{"host": "reviews", "subset": "v1"}, "weight": int64(90)},
					map[string]any{"destination": map[string]any{"host": "reviews", "subset": "v2"}, "weight": int64(10)},
				},
				"timeout": "5s",
			}},
		},
	}
}

func benchInventory() *policies.Inventory {
	inv := policies.NewInventory()
	for i := range 50 {
		inv.Add(map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": fmt.Sprintf("svc-%d", i), "namespace": "shop"},
			"spec":     map[string]any{"selector": map[string]any{"app": fmt.Sprintf("svc-%d", i)}, "ports": []any{map[string]any{"name": "http", "port": int64(8080)}}}})
	}
	inv.Add(map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop"},
		"spec":     map[string]any{"selector": map[string]any{"app": "reviews"}, "ports": []any{map[string]any{"name": "http", "port": int64(9080)}}}})
	inv.Add(map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop"},
		"spec": map[string]any{"host": "reviews", "subsets": []any{
			map[string]any{"name": "v1", "labels": map[string]any{"version": "v1"}},
			map[string]any{"name": "v2", "labels": map[string]any{"version": "v2"}},
		}}})
	return inv
}

// review converts obj and builds its review, as check does for each object:
// the conversion is part of what a review costs.
func review(b *testing.B, obj map[string]any) *policies.Review {
	v, err := policies.ToValue(obj)
	if err != nil {
		b.Fatal(err)
	}
	return policies.NewReview(v, nil)
}

// reviewLoop reviews obj with engine for each iteration and reports the
// CPU time of one review (op-cpu-us) beside its wall time.
func reviewLoop(engine *policies.Engine, obj map[string]any) func(*testing.B) {
	return func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			if _, err := engine.Review(context.Background(), review(b, obj)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N)/1e3, "op-cpu-us")
	}
}

// BenchmarkReview compares the engine (compiled once, routed in Go,
// prepared queries) with the naive use of OPA: rego.New(...).Eval for every
// review, over the same policies, input and inventory.
func BenchmarkReview(b *testing.B) {
	ctx := context.Background()
	engine, err := policies.New(ctx, policies.Options{})
	if err != nil {
		b.Fatal(err)
	}
	inv := benchInventory()
	if err := engine.SetInventory(ctx, inv); err != nil {
		b.Fatal(err)
	}
	obj := benchVirtualService()

	b.Run("engine", reviewLoop(engine, obj))

	// A Service as the apiserver sends it: annotations, spec.type and
	// status meet the requirements of several policies at once.
	service := map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop", "uid": "6a1f", "resourceVersion": "4711",
			"labels":      map[string]any{"app": "reviews"},
			"annotations": map[string]any{"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"v1","kind":"Service"}`}},
		"spec": map[string]any{"type": "ClusterIP", "clusterIP": "10.96.12.7", "selector": map[string]any{"app": "reviews"},
			"ports": []any{map[string]any{"name": "http", "port": int64(9080), "protocol": "TCP", "targetPort": int64(9080)}}},
		"status": map[string]any{"loadBalancer": map[string]any{}},
	}
	b.Run("engine-cluster-service", reviewLoop(engine, service))

	// What the webhook runs: each evaluation under --policy-timeout.
	deadlined, err := policies.New(ctx, policies.Options{PolicyTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	if err := deadlined.SetInventory(ctx, inv); err != nil {
		b.Fatal(err)
	}
	b.Run("engine-policy-deadline", reviewLoop(deadlined, obj))

	b.Run("rego.New-Eval-per-call", func(b *testing.B) {
		library, err := policies.Library()
		if err != nil {
			b.Fatal(err)
		}
		var queries []string
		for _, m := range engine.Policies() {
			if m.Matches("networking.istio.io", "VirtualService", "CREATE") {
				queries = append(queries, m.Package+".violation")
			}
		}
		store := inmem.NewFromObject(map[string]any{"inventory": policies.InventoryDocument(inv)})
		input := map[string]any{"review": map[string]any{
			"kind": map[string]any{"group": "networking.istio.io", "version": "v1", "kind": "VirtualService"},
			"name": "reviews", "namespace": "shop", "operation": "CREATE", "object": obj, "oldObject": nil,
		}}
		query := "[" + strings.Join(queries, ", ") + "]"
		for b.Loop() {
			opts := []func(*rego.Rego){rego.Query(query), rego.Input(input), rego.Store(store), rego.SetRegoVersion(ast.RegoV1)}
			for _, src := range library {
				opts = append(opts, rego.Module(src.Name, src.Text))
			}
			if _, err := rego.New(opts...).Eval(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkReviewProfile runs BenchmarkReview's review with OPA's profiler
// tracing the engine's own evaluations (the combined query of the kind, the
// Go-computed index) and logs the Rego lines that cost the most per review,
// with how often each ran: where to look when the library grows slower.
// Tracing inflates every figure; compare lines with each other.
//
//	go test ./policies -run '^$' -bench BenchmarkReviewProfile -benchtime 300x -v
func BenchmarkReviewProfile(b *testing.B) {
	ctx := context.Background()
	engine, err := policies.New(ctx, policies.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := engine.SetInventory(ctx, benchInventory()); err != nil {
		b.Fatal(err)
	}
	p := profiler.New()
	policies.Trace(engine, p)
	obj := benchVirtualService()
	for b.Loop() {
		if _, err := engine.Review(ctx, review(b, obj)); err != nil {
			b.Fatal(err)
		}
	}
	logProfile(b, p, float64(b.N))
}

// logProfile logs the 15 Rego lines p saw cost the most, per review.
func logProfile(b *testing.B, p *profiler.Profiler, reviews float64) {
	for _, s := range p.ReportTopNResults(15, []string{"total_time_ns"}) {
		if s.Location.File != "" {
			b.Logf("%7.1f traced µs/review  %4.1f runs/review  %s:%d", float64(s.ExprTimeNs)/reviews/1e3, float64(s.NumEval)/reviews, s.Location.File, s.Location.Row)
		}
	}
}

// BenchmarkRouting shows that policies for other kinds cost nothing: 100
// policies of which 10 review ConfigMaps against those 10 alone.
func BenchmarkRouting(b *testing.B) {
	ctx := context.Background()
	for _, total := range []int{10, 100} {
		b.Run(fmt.Sprintf("policies=%d", total), func(b *testing.B) {
			var custom []policies.Source
			for i := range total {
				kind := "ConfigMap"
				if i >= 10 {
					kind = fmt.Sprintf("acme.io/Kind%d", i)
				}
				custom = append(custom, policies.Source{Name: fmt.Sprintf("p%d.rego", i), Text: fmt.Sprintf(`# METADATA
# title: Routing benchmark %[1]d
# description: Flags ConfigMaps with a key named like the policy.
# custom:
#   id: BENCH%03[1]d
#   severity: warning
#   enforcement: warn
#   kinds: [%[2]s]
package bench.p%[1]d

import rego.v1

violation contains {"msg": sprintf("key %%s", [k])} if {
	some k, _ in input.review.object.data
	k == "key-%[1]d"
}
`, i, kind)})
			}
			engine, err := policies.New(ctx, policies.Options{Library: []policies.Source{}, Custom: custom})
			if err != nil {
				b.Fatal(err)
			}
			cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": "cm", "namespace": "default"},
				"data":     map[string]any{"key-1": "a", "key-2": "b", "other": "c"}}
			for b.Loop() {
				findings, err := engine.Review(ctx, review(b, cm))
				if err != nil || len(findings) != 2 {
					b.Fatalf("findings %v, err %v; want 2", findings, err)
				}
			}
		})
	}
}

// BenchmarkEvaluatorFloor measures what OPA's evaluator costs per review
// before any policy does real work: N policies that find nothing, either
// reading one absent field ("absent-field") or walking every route
// destination once ("walk-destinations"), on a VirtualService with nine
// routes of two destinations, and N absent-field policies on a small
// Service ("service-absent-field"). It bounds from below what any library
// of N such policies can cost per review on this machine.
func BenchmarkEvaluatorFloor(b *testing.B) {
	ctx := context.Background()
	vs, svc := floorVirtualService(), floorService()
	cases := []struct {
		name, kind, body string
		obj              map[string]any
	}{
		{"absent-field", "networking.istio.io/VirtualService", `input.review.object.spec.absent_%[1]d`, vs},
		{"walk-destinations", "networking.istio.io/VirtualService", "some route in input.review.object.spec.http\n\tsome d in route.route\n\td.destination.host == \"absent-%[1]d\"", vs},
		{"service-absent-field", "Service", `input.review.object.spec.absent_%[1]d`, svc},
	}
	for _, c := range cases {
		for _, n := range []int{1, 10, 25} {
			b.Run(fmt.Sprintf("%s/policies=%d", c.name, n), func(b *testing.B) {
				var custom []policies.Source
				for i := range n {
					custom = append(custom, policies.Source{Name: fmt.Sprintf("floor%d.rego", i), Text: fmt.Sprintf(`# METADATA
# title: Floor %[1]d
# description: Finds nothing.
# custom:
#   id: FLOOR%03[1]d
#   severity: warning
#   enforcement: warn
#   kinds: [`+c.kind+`]
package floor.p%[1]d

import rego.v1

violation contains {"msg": "found"} if {
	`+c.body+`
}
`, i)})
				}
				engine, err := policies.New(ctx, policies.Options{Library: []policies.Source{}, Custom: custom})
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					findings, err := engine.Review(ctx, review(b, c.obj))
					if err != nil || len(findings) != 0 {
						b.Fatalf("findings %v, error %v; want neither", findings, err)
					}
				}
			})
		}
	}
}

// floorVirtualService has nine HTTP routes of two destinations each.
func floorVirtualService() map[string]any {
	var routes []any
	for i := range 9 {
		routes = append(routes, map[string]any{
			"name":  fmt.Sprintf("route-%d", i),
			"match": []any{map[string]any{"uri": map[string]any{"prefix": fmt.Sprintf("/api/v%d", i)}}},
			"route": []any{
				map[string]any{"destination": map[string]any{"host": "reviews", "subset": "v1"}, "weight": int64(90)},
				map[string]any{"destination": map[string]any{"host": "reviews", "subset": "v2"}, "weight": int64(10)},
			},
			"timeout": "5s",
		})
	}
	return map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop"},
		"spec":     map[string]any{"hosts": []any{"reviews"}, "http": routes},
	}
}

// floorService is a Service as meshgen writes them for the check benchmark.
func floorService() map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop", "labels": map[string]any{"app": "reviews"}},
		"spec": map[string]any{"selector": map[string]any{"app": "reviews"},
			"ports": []any{map[string]any{"name": "http", "port": int64(9080), "targetPort": int64(9080)}}},
	}
}
