package policies_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/internal/meshgen"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
)

// meshInventoryObjects are the objects of a generated mesh of istioObjects
// Istio objects (and the Services, Deployments and Namespaces they need),
// each with a uid and resourceVersion as an informer serves them.
func meshInventoryObjects(b *testing.B, istioObjects int) []map[string]any {
	b.Helper()
	var buf bytes.Buffer
	if err := meshgen.Write(&buf, istioObjects/meshgen.IstioObjectsPerNamespace); err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "mesh.yaml")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	read, errs := manifest.ReadPaths([]string{file}, false, nil)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	objects := make([]map[string]any, len(read))
	for i, obj := range read {
		meta := obj.Content["metadata"].(map[string]any)
		meta["uid"], meta["resourceVersion"] = fmt.Sprintf("uid-%d", i), "1"
		objects[i] = obj.Content
	}
	return objects
}

// BenchmarkInventoryChange is what one changed VirtualService costs the
// webhook's inventory: a whole SetInventory (unchanged objects reuse their
// converted values) against UpdateInventory of the one object.
func BenchmarkInventoryChange(b *testing.B) {
	ctx := context.Background()
	engine, err := policies.New(ctx, policies.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{1000, 5000} {
		objects := meshInventoryObjects(b, size)
		var changed map[string]any
		for _, obj := range objects {
			if obj["kind"] == "VirtualService" {
				changed = obj
				break
			}
		}
		version := 1
		bump := func() {
			version++
			changed["metadata"].(map[string]any)["resourceVersion"] = fmt.Sprint(version)
		}
		set := func(b *testing.B) {
			inv := policies.NewInventory()
			for _, obj := range objects {
				inv.Add(obj)
			}
			if err := engine.SetInventory(ctx, inv); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("objects=%d/SetInventory", size), func(b *testing.B) {
			set(b)
			cpu := cpuTime()
			for b.Loop() {
				bump()
				set(b)
			}
			b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N)/1e3, "op-cpu-us")
		})
		b.Run(fmt.Sprintf("objects=%d/UpdateInventory", size), func(b *testing.B) {
			set(b)
			cpu := cpuTime()
			for b.Loop() {
				bump()
				if err := engine.UpdateInventory(ctx, policies.InventoryChanges{Put: []map[string]any{changed}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N)/1e3, "op-cpu-us")
		})
	}
}
