package policies_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubectl-mesh/kubectl-mesh/internal/meshgen"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
)

// TestIndexMatchesRego holds the index the engine computes in Go equal to
// what the rules of policies/lib/index.rego compute, table by table, on the
// inventory of every fixture, of all fixtures together and of a generated mesh.
func TestIndexMatchesRego(t *testing.T) {
	lib, err := policies.IndexBothWays(library(t))
	if err != nil {
		t.Fatal(err)
	}
	var all []manifest.Object
	for _, d := range listPolicyDirs(t) {
		allowed, denied := fixtures(t, d)
		for _, file := range slices.Concat(allowed, denied) {
			objects := readObjects(t, file)
			all = append(all, objects...)
			t.Run(file, func(t *testing.T) { compareIndexes(t, lib, objects) })
		}
	}
	t.Run("all fixtures", func(t *testing.T) { compareIndexes(t, lib, all) })
	t.Run("meshgen", func(t *testing.T) {
		var b bytes.Buffer
		if err := meshgen.Write(&b, 8); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "mesh.yaml")
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		compareIndexes(t, lib, readObjects(t, file))
	})
}

func readObjects(t *testing.T, file string) []manifest.Object {
	t.Helper()
	objects, errs := manifest.ReadPaths([]string{file}, false, nil)
	if len(errs) > 0 {
		t.Fatalf("reading %s: %v", file, errs)
	}
	return objects
}

func compareIndexes(t *testing.T, both func(context.Context, *policies.Inventory) (map[string]ast.Value, map[string]ast.Value, error), objects []manifest.Object) {
	t.Helper()
	inv := policies.NewInventory()
	for _, obj := range objects {
		if obj.Namespace() == "" && obj.Kind() != "Namespace" {
			obj.SetNamespace("default") // as check does
		}
		inv.Add(obj.Content)
	}
	fromGo, fromRego, err := both(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range fromRego {
		got, ok := fromGo[name]
		if !ok {
			t.Errorf("table %s: missing from the Go index", name)
			continue
		}
		if got.Compare(want) != 0 {
			t.Errorf("table %s differs\nGo:   %v\nRego: %v", name, got, want)
		}
	}
	for name := range fromGo {
		if _, ok := fromRego[name]; !ok {
			t.Errorf("table %s: the Go index has it, index.rego does not", name)
		}
	}
}
