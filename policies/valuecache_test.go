package policies

import (
	"context"
	"strings"
	"testing"
)

// TestInventoryValueCache runs successive rebuilds through one engine: a
// policy must see each object as the last rebuild had it, whether its value
// was converted again or reused.
func TestInventoryValueCache(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, policy("p/ports.rego", "acme.ports", "#   id: ACME001\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]",
		`violation contains {"msg": concat(",", sort(ports))} if {
	ports := [sprintf("%s:%s/%s=%v", [api, svc.apiVersion, name, svc.spec.port]) |
		some api, kinds in data.inventory.namespace.default
		some name, svc in kinds.Service
	]
}
`))
	service := func(name, uid, rv string, port int64) map[string]any {
		obj := object("v1", "Service", "default", name, nil)
		meta := obj["metadata"].(map[string]any)
		if uid != "" {
			meta["uid"] = uid
		}
		if rv != "" {
			meta["resourceVersion"] = rv
		}
		obj["spec"] = map[string]any{"port": port}
		return obj
	}
	steps := []struct {
		name    string
		objects []map[string]any
		want    string
	}{
		{"first rebuild", []map[string]any{service("a", "u-a", "1", 80), service("b", "u-b", "1", 81)}, "v1:v1/a=80,v1:v1/b=81"},
		{"unchanged", []map[string]any{service("a", "u-a", "1", 80), service("b", "u-b", "1", 81)}, "v1:v1/a=80,v1:v1/b=81"},
		{"new resourceVersion", []map[string]any{service("a", "u-a", "2", 90), service("b", "u-b", "1", 81)}, "v1:v1/a=90,v1:v1/b=81"},
		{"deleted", []map[string]any{service("a", "u-a", "2", 90)}, "v1:v1/a=90"},
		{"no resourceVersion", []map[string]any{service("a", "u-a2", "", 71)}, "v1:v1/a=71"},
		{"no uid", []map[string]any{service("a", "", "2", 72)}, "v1:v1/a=72"},
		{"recreated under the same name", []map[string]any{service("a", "u-a2", "2", 70)}, "v1:v1/a=70"},
		{"same object under another apiVersion", []map[string]any{service("a", "u-a2", "2", 70), func() map[string]any {
			obj := service("a", "u-a2", "2", 70)
			obj["apiVersion"] = "v2"
			return obj
		}()}, "v1:v1/a=70,v2:v2/a=70"},
	}
	for _, step := range steps {
		inv := NewInventory()
		for _, obj := range step.objects {
			inv.Add(obj)
		}
		if err := e.SetInventory(ctx, inv); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		findings, err := e.Review(ctx, NewReview(value(object("v1", "ConfigMap", "default", "cm", nil)), nil))
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		var got []string
		for _, f := range findings {
			got = append(got, f.Message)
		}
		if strings.Join(got, ";") != step.want {
			t.Errorf("%s: the policy saw %q, want %q", step.name, got, step.want)
		}
	}
}
