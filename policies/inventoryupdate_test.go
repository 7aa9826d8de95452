package policies

import (
	"bytes"
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/internal/meshgen"
)

// meshObjects are the objects of a generated mesh of n namespaces.
func meshObjects(t testing.TB, namespaces int) []map[string]any {
	t.Helper()
	var b bytes.Buffer
	if err := meshgen.Write(&b, namespaces); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for doc := range strings.SplitSeq(b.String(), "\n---\n") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		if obj != nil {
			out = append(out, obj)
		}
	}
	return out
}

func resourceOf(obj map[string]any) Resource {
	meta := obj["metadata"].(map[string]any)
	ns, _ := meta["namespace"].(string)
	return Resource{APIVersion: obj["apiVersion"].(string), Kind: obj["kind"].(string), Namespace: ns, Name: meta["name"].(string)}
}

// requireSameData fails unless e holds the inventory and index that a whole
// SetInventory of objects gives.
func requireSameData(t *testing.T, e *Engine, objects map[Resource]map[string]any) {
	t.Helper()
	ctx := context.Background()
	whole := newTestEngine(t)
	inv := NewInventory()
	for _, obj := range objects {
		inv.Add(obj)
	}
	if err := whole.SetInventory(ctx, inv); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/inventory", "/mesh_index_cache"} {
		got, err := storage.ReadOne(ctx, e.store, storage.MustParsePath(path))
		if err != nil {
			t.Fatal(err)
		}
		want, err := storage.ReadOne(ctx, whole.store, storage.MustParsePath(path))
		if err != nil {
			t.Fatal(err)
		}
		if got.(ast.Value).Compare(want.(ast.Value)) != 0 {
			t.Fatalf("%s after updates differs from a whole rebuild\nupdated: %.2000v\nrebuilt: %.2000v", path, got, want)
		}
	}
}

// TestUpdateInventoryMatchesRebuild applies changes one by one and holds
// the inventory and index to what a whole rebuild of the same objects gives.
func TestUpdateInventoryMatchesRebuild(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	objects := map[Resource]map[string]any{}
	for _, obj := range meshObjects(t, 2) {
		objects[resourceOf(obj)] = obj
	}
	inv := NewInventory()
	for _, obj := range objects {
		inv.Add(obj)
	}
	if err := e.SetInventory(ctx, inv); err != nil {
		t.Fatal(err)
	}
	withSpec := func(obj map[string]any, labels map[string]any, spec map[string]any) map[string]any {
		if labels != nil {
			obj["metadata"].(map[string]any)["labels"] = labels
		}
		obj["spec"] = spec
		return obj
	}
	pod := withSpec(object("v1", "Pod", "new-ns", "p", nil), map[string]any{"app": "p", "version": "v1"}, map[string]any{})
	steps := []struct {
		name    string
		put     []map[string]any
		removed []map[string]any
	}{
		{name: "a pod in a new namespace", put: []map[string]any{pod}},
		{name: "its labels change", put: []map[string]any{withSpec(object("v1", "Pod", "new-ns", "p", nil), map[string]any{"app": "q"}, map[string]any{})}},
		{name: "a DestinationRule and a wildcard one", put: []map[string]any{
			withSpec(object("networking.istio.io/v1", "DestinationRule", "team-000", "extra", nil), nil, map[string]any{"host": "svc-01"}),
			withSpec(object("networking.istio.io/v1", "DestinationRule", "team-001", "all", nil), nil, map[string]any{"host": "*.local"}),
		}},
		{name: "a Gateway", put: []map[string]any{withSpec(object("networking.istio.io/v1", "Gateway", "new-ns", "gw", nil), nil, map[string]any{
			"selector": map[string]any{"istio": "ingressgateway"},
			"servers": []any{map[string]any{"port": map[string]any{"number": 443, "protocol": "HTTPS"}, "hosts": []any{"ns/a.example.com"},
				"tls": map[string]any{"mode": "SIMPLE", "credentialName": "a-cert"}}},
		})}},
		{name: "the Gateway's server changes", put: []map[string]any{withSpec(object("networking.istio.io/v1", "Gateway", "new-ns", "gw", nil), nil, map[string]any{
			"servers": []any{map[string]any{"port": map[string]any{"number": "8443", "protocol": "https"}, "hosts": []any{"b.example.com"},
				"tls": map[string]any{"mode": "MUTUAL", "serverCertificate": "/etc/cert.pem"}}},
		})}},
		{name: "two ServiceEntries with one host", put: []map[string]any{
			withSpec(object("networking.istio.io/v1", "ServiceEntry", "new-ns", "se-a", nil), nil, map[string]any{"hosts": []any{"api.example.com"}}),
			withSpec(object("networking.istio.io/v1", "ServiceEntry", "team-000", "se-b", nil), nil, map[string]any{"hosts": []any{"api.example.com", "x.example.com"}}),
		}},
		{name: "one of them goes", removed: []map[string]any{object("networking.istio.io/v1", "ServiceEntry", "team-000", "se-b", nil)}},
		{name: "a VirtualService's hosts change", put: []map[string]any{
			withSpec(object("networking.istio.io/v1", "VirtualService", "team-000", "svc-00", nil), nil, map[string]any{"hosts": []any{"svc-01", "other.example.com"}}),
		}},
		{name: "a cluster-scoped object", put: []map[string]any{{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "new-ns"}}}},
		{name: "the pod goes", removed: []map[string]any{pod}},
		{name: "the last objects of a namespace go", removed: []map[string]any{
			object("networking.istio.io/v1", "Gateway", "new-ns", "gw", nil),
			object("networking.istio.io/v1", "ServiceEntry", "new-ns", "se-a", nil),
		}},
		{name: "the last object of a kind goes", removed: []map[string]any{
			object("networking.istio.io/v1", "DestinationRule", "team-001", "all", nil),
			object("networking.istio.io/v1", "DestinationRule", "team-000", "extra", nil),
		}},
		{name: "something not in the inventory goes", removed: []map[string]any{object("v1", "Service", "nowhere", "none", nil)}},
	}
	for _, step := range steps {
		var changes InventoryChanges
		for _, obj := range step.put {
			objects[resourceOf(obj)] = obj
			changes.Put = append(changes.Put, obj)
		}
		for _, obj := range step.removed {
			delete(objects, resourceOf(obj))
			changes.Removed = append(changes.Removed, resourceOf(obj))
		}
		if err := e.UpdateInventory(ctx, changes); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		t.Run(step.name, func(t *testing.T) { requireSameData(t, e, maps.Clone(objects)) })
	}
}

// TestUpdateInventoryWorkPerChange counts the objects read to update the
// index after one change in a mesh of 5,000 Istio objects: the changed
// object before and after, and for a pod or workload the pods and
// workloads of its namespace; never the whole inventory.
func TestUpdateInventoryWorkPerChange(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	objects := meshObjects(t, 100)
	inv := NewInventory()
	for _, obj := range objects {
		inv.Add(obj)
	}
	if err := e.SetInventory(ctx, inv); err != nil {
		t.Fatal(err)
	}
	full := e.index.visited
	for _, c := range []struct {
		kind  string
		limit int
	}{
		{"VirtualService", 2}, {"DestinationRule", 2}, {"Gateway", 2}, {"ServiceEntry", 2}, {"Service", 2},
		{"Deployment", 20}, // the Deployments of its namespace
	} {
		t.Run(c.kind, func(t *testing.T) {
			var changed map[string]any
			for _, obj := range objects {
				if obj["kind"] == c.kind {
					changed = obj
					break
				}
			}
			before := e.index.visited
			if err := e.UpdateInventory(ctx, InventoryChanges{Put: []map[string]any{changed}}); err != nil {
				t.Fatal(err)
			}
			if visited := e.index.visited - before; visited > c.limit {
				t.Errorf("one %s changed: %d objects read, want at most %d (a whole rebuild reads %d)", c.kind, visited, c.limit, full)
			}
		})
	}
}
