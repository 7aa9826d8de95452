package policies_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/scan"
)

// TestKindsCompilesWhatFindsEverything reviews every fixture with an
// engine compiled for the kinds in it (Options.Kinds, what check -f does)
// and with the whole library, and fails on any difference.
func TestKindsCompilesWhatFindsEverything(t *testing.T) {
	lib := library(t)
	whole := newEngine(t)
	engines := map[string]*policies.Engine{} // by the kinds they were compiled for
	for _, d := range listPolicyDirs(t) {
		allowed, denied := fixtures(t, d)
		for _, file := range slices.Concat(allowed, denied) {
			objects := readObjects(t, file)
			var kinds []policies.Kind
			var names []string
			for _, obj := range objects {
				group, _, _ := strings.Cut(obj.APIVersion(), "/")
				if !strings.Contains(obj.APIVersion(), "/") {
					group = ""
				}
				k := policies.Kind{Group: group, Kind: obj.Kind()}
				if !slices.Contains(kinds, k) {
					kinds = append(kinds, k)
					names = append(names, k.String())
				}
			}
			slices.Sort(names)
			key := strings.Join(names, ",")
			engine, ok := engines[key]
			if !ok {
				var err error
				engine, err = policies.New(context.Background(), policies.Options{Library: lib, Kinds: func() []policies.Kind { return kinds }})
				if err != nil {
					t.Fatalf("%s: compiling for %s: %v", file, key, err)
				}
				engines[key] = engine
			}
			if got, want := len(engine.Policies()), len(whole.Policies()); got != want {
				t.Errorf("%s: Policies lists %d policies, want all %d", file, got, want)
			}
			got := scan.Run(context.Background(), engine, readObjects(t, file), scan.Options{})
			want := scan.Run(context.Background(), whole, readObjects(t, file), scan.Options{})
			if g, w := describe(got.Findings, ""), describe(want.Findings, ""); g != w || len(got.Errors) != len(want.Errors) {
				t.Errorf("%s: compiled for %s, found\n%s(errors %v)\nthe whole library finds\n%s(errors %v)", file, key, g, got.Errors, w, want.Errors)
			}
		}
	}
	t.Logf("%d kind sets", len(engines))
}
