package policies_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// patternObjects are the four Istio objects kubectl mesh apply writes for
// service i of test/patternbench's generated pattern, as the apiserver
// hands them to the webhook on a server-side apply that creates them.
func patternObjects(i, services int, ns string) []map[string]any {
	name := fmt.Sprintf("svc-%04d", i)
	peer := fmt.Sprintf("svc-%04d", (i+1)%services)
	meta := func(name string, spec ...string) map[string]any {
		fields := map[string]any{"f:metadata": map[string]any{"f:labels": map[string]any{
			"f:app.kubernetes.io/managed-by": map[string]any{}, "f:kubectl-mesh.io/pattern": map[string]any{},
			"f:applyset.kubernetes.io/part-of": map[string]any{},
		}}}
		specFields := map[string]any{}
		for _, f := range spec {
			specFields["f:"+f] = map[string]any{}
		}
		fields["f:spec"] = specFields
		return map[string]any{
			"name": name, "namespace": ns, "uid": fmt.Sprintf("0000-%s-%d", name, len(spec)),
			"resourceVersion": fmt.Sprint(1000 + i),
			"generation":      int64(1), "creationTimestamp": "2025-01-01T00:00:00Z",
			"labels": map[string]any{
				"app.kubernetes.io/managed-by":   "kubectl-mesh",
				"kubectl-mesh.io/pattern":        "bench",
				"applyset.kubernetes.io/part-of": "applyset-bench-v1",
			},
			"managedFields": []any{map[string]any{
				"manager": "kubectl-mesh", "operation": "Apply", "apiVersion": "v1",
				"time": "2025-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields,
			}},
		}
	}
	selector := map[string]any{"matchLabels": map[string]any{"app": name}}
	return []map[string]any{
		{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": meta(name, "hosts", "http"),
			"spec": map[string]any{"hosts": []any{name}, "http": []any{map[string]any{
				"retries": map[string]any{"attempts": int64(2), "perTryTimeout": "0.500s"},
				"route": []any{
					map[string]any{"destination": map[string]any{"host": name, "subset": "v1"}, "weight": int64(90)},
					map[string]any{"destination": map[string]any{"host": name, "subset": "v2"}, "weight": int64(10)},
				},
				"timeout": "2s",
			}}}},
		{"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": meta(name, "host", "subsets", "trafficPolicy"),
			"spec": map[string]any{"host": name,
				"subsets": []any{
					map[string]any{"name": "v1", "labels": map[string]any{"version": "v1"}},
					map[string]any{"name": "v2", "labels": map[string]any{"version": "v2"}},
				},
				"trafficPolicy": map[string]any{"outlierDetection": map[string]any{"baseEjectionTime": "30s", "consecutive5xxErrors": int64(5)}}}},
		{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": meta(name+"-mtls", "mtls", "selector"),
			"spec": map[string]any{"mtls": map[string]any{"mode": "STRICT"}, "selector": selector}},
		{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": meta(name, "action", "rules", "selector"),
			"spec": map[string]any{"action": "ALLOW", "selector": selector, "rules": []any{map[string]any{
				"from": []any{map[string]any{"source": map[string]any{"principals": []any{"cluster.local/ns/" + ns + "/sa/" + peer}}}},
				"to":   []any{map[string]any{"operation": map[string]any{"methods": []any{"GET"}}}},
			}}}},
	}
}

// patternInventory is the cluster as the webhook sees it midway through
// test/patternbench's apply: Istio's minimal install, the namespace, and
// the objects of the first `applied` services.
func patternInventory(applied, services int, ns string) *policies.Inventory {
	inv := policies.NewInventory()
	for _, n := range []string{"default", "kube-system", "istio-system", ns} {
		inv.Add(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": n}})
	}
	inv.Add(map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "istiod", "namespace": "istio-system"},
		"spec": map[string]any{"selector": map[string]any{"app": "istiod"},
			"ports": []any{map[string]any{"name": "grpc-xds", "port": int64(15010)}, map[string]any{"name": "https-webhook", "port": int64(443)}}}})
	inv.Add(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "istiod", "namespace": "istio-system"},
		"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
			"labels": map[string]any{"app": "istiod", "istio": "pilot"}}}}})
	for i := range applied {
		for _, obj := range patternObjects(i, services, ns) {
			inv.Add(obj)
		}
	}
	return inv
}

// BenchmarkPatternReview reviews each kind test/patternbench's apply
// writes, as the webhook does (CREATE by server-side apply), against an
// inventory empty, half and fully applied.
func BenchmarkPatternReview(b *testing.B) {
	ctx := context.Background()
	const services, ns = 250, "bench-1"
	engine, err := policies.New(ctx, policies.Options{})
	if err != nil {
		b.Fatal(err)
	}
	objs := patternObjects(services/2, services, ns)
	for _, applied := range []int{0, services / 2, services} {
		if err := engine.SetInventory(ctx, patternInventory(applied, services, ns)); err != nil {
			b.Fatal(err)
		}
		for _, obj := range objs {
			b.Run(fmt.Sprintf("%s/inventory=%d", obj["kind"], 4*applied), func(b *testing.B) {
				for b.Loop() {
					r := review(b, obj)
					r.UserInfo, r.DryRun = policies.UserInfo{Username: "kubernetes-admin", Groups: []string{"system:masters", "system:authenticated"}}, false
					r.Options = ast.MustInterfaceToValue(map[string]any{"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1", "fieldManager": "kubectl-mesh"})
					if _, err := engine.Review(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPatternSetInventory is what one inventory rebuild costs the
// engine (store write and index) as test/patternbench's apply grows it.
func BenchmarkPatternSetInventory(b *testing.B) {
	ctx := context.Background()
	const services, ns = 250, "bench-1"
	engine, err := policies.New(ctx, policies.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, applied := range []int{services / 2, services} {
		inv := patternInventory(applied, services, ns)
		b.Run(fmt.Sprintf("objects=%d", inv.Len()), func(b *testing.B) {
			for b.Loop() {
				if err := engine.SetInventory(ctx, inv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
