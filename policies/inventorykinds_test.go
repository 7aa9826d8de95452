package policies_test

import (
	"context"
	"slices"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
	"github.com/kubectl-mesh/kubectl-mesh/policies/scan"
)

// check reads only the kinds policies declare (custom.kinds and
// custom.inventory), from files as from the cluster. Each policy, alone,
// must find the same on its fixtures with only those kinds as with every
// object: a lookup of an undeclared kind would silently find nothing.
func TestInventoryDeclarationsAreComplete(t *testing.T) {
	ctx := context.Background()
	lib := library(t)
	ids := map[string]string{} // by package
	for _, m := range newEngine(t).Policies() {
		ids[m.Package] = m.ID
	}
	for _, d := range listPolicyDirs(t) {
		allowed, denied := fixtures(t, d)
		files := slices.Concat(allowed, denied)
		if len(files) == 0 {
			continue
		}
		t.Run(d.String(), func(t *testing.T) {
			id, ok := ids["data.mesh."+d.mesh+"."+d.name]
			if !ok {
				t.Skip("no policy here: TestLibraryLayout reports it")
			}
			engine, err := policies.New(ctx, policies.Options{Library: lib, Only: []string{id}})
			if err != nil {
				t.Fatal(err)
			}
			kinds := scan.NeededKinds(engine.Policies())
			for _, file := range files {
				all := verdict(scanWith(t, engine, file, scan.Options{}))
				declared := verdict(scanWith(t, engine, file, scan.Options{Kinds: kinds}))
				if all != declared {
					t.Errorf("%s: %s finds with only the kinds it declares\n%s\nand with every object\n%s", file, id, declared, all)
				}
			}
		})
	}
}

func scanWith(t *testing.T, engine *policies.Engine, file string, opts scan.Options) ([]policies.Finding, error) {
	t.Helper()
	objects, errs := manifest.ReadPaths([]string{file}, false, nil)
	if len(errs) > 0 {
		t.Fatalf("reading %s: %v", file, errs)
	}
	res := scan.Run(context.Background(), engine, objects, opts)
	return res.Findings, errorsOf(res.Errors)
}
