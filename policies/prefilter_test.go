package policies_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
	"github.com/kubectl-mesh/kubectl-mesh/policies/scan"
)

// custom.requires keeps a policy out of Rego when the object lacks what it
// needs. A wrong declaration would silently drop findings, so every fixture
// is reviewed with the requirements honoured and ignored, as a CREATE (the
// grid) and as the UPDATEs and the DELETE made of each of its objects.
func TestPrefilterKeepsVerdicts(t *testing.T) {
	for _, d := range prefilterDifferences(t, library(t)) {
		t.Error(d)
	}
}

// The test above catches a requirement that does not hold.
func TestPrefilterEquivalenceCatchesAWrongDeclaration(t *testing.T) {
	lib := library(t)
	const declared = "labels: [kubectl-mesh.io/pattern]"
	i := slices.IndexFunc(lib, func(s policies.Source) bool { return strings.HasSuffix(s.Name, "any/pattern_drift/policy.rego") })
	if i < 0 || !strings.Contains(lib[i].Text, declared) {
		t.Skip("pattern_drift is not in the library or declares no pattern label")
	}
	lib = slices.Clone(lib)
	lib[i].Text = strings.Replace(lib[i].Text, declared, "labels: [kubectl-mesh.io/not-the-pattern]", 1)
	diffs := prefilterDifferences(t, lib)
	if !slices.ContainsFunc(diffs, func(d string) bool { return strings.Contains(d, "MESH5004") }) {
		t.Fatalf("a wrong custom.requires of MESH5004 went unnoticed; differences: %v", diffs)
	}
}

// prefilterDifferences lists the reviews on which an engine honouring
// custom.requires and one ignoring it disagree.
func prefilterDifferences(t *testing.T, lib []policies.Source) []string {
	t.Helper()
	ctx := context.Background()
	filtered, err := policies.New(ctx, policies.Options{Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	unfiltered, err := policies.New(ctx, policies.Options{Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	policies.DisablePrefilter(unfiltered)

	var diffs []string
	compare := func(what string, review func(*policies.Engine) ([]policies.Finding, error)) {
		got, gotErr := review(filtered)
		want, wantErr := review(unfiltered)
		if g, w := verdict(got, gotErr), verdict(want, wantErr); g != w {
			diffs = append(diffs, fmt.Sprintf("%s: with custom.requires\n%s\nwithout\n%s", what, g, w))
		}
	}
	for _, d := range listPolicyDirs(t) {
		allowed, denied := fixtures(t, d)
		for _, file := range slices.Concat(allowed, denied) {
			objects, errs := manifest.ReadPaths([]string{file}, false, nil)
			if len(errs) > 0 {
				t.Fatalf("reading %s: %v", file, errs)
			}
			// scan.Run sets each engine's inventory to the fixture, which
			// the reviews below keep using.
			compare(file, func(e *policies.Engine) ([]policies.Finding, error) {
				res := scan.Run(ctx, e, objects, scan.Options{})
				return res.Findings, errorsOf(res.Errors)
			})
			for _, o := range objects {
				v, err := policies.ToValue(o.Content)
				if err != nil {
					t.Fatal(err)
				}
				bare := ast.MustInterfaceToValue(map[string]any{"apiVersion": o.APIVersion(), "kind": o.Kind(),
					"metadata": map[string]any{"name": o.Name(), "namespace": o.Namespace()}})
				for _, req := range []struct {
					op       string
					old, new ast.Value
				}{
					{"UPDATE", v, v}, {"UPDATE", v, bare}, {"UPDATE", bare, v}, {"DELETE", v, nil},
				} {
					r := policies.NewReview(v, nil)
					r.Operation, r.OldObject, r.Object, r.DryRun = req.op, req.old, req.new, false
					r.UserInfo = policies.UserInfo{Username: "alice"}
					r.Options = ast.MustInterfaceToValue(map[string]any{"kind": "UpdateOptions", "fieldManager": "kubectl-edit"})
					what := fmt.Sprintf("%s:%d: %s of %s/%s", file, o.Source.Line, req.op, o.Kind(), o.Name())
					if req.new == nil {
						r.Object = nil
					}
					compare(what, func(e *policies.Engine) ([]policies.Finding, error) { return e.Review(ctx, r) })
				}
			}
		}
	}
	return diffs
}

func verdict(findings []policies.Finding, err error) string {
	lines := make([]string, 0, len(findings)+1)
	for _, f := range findings {
		lines = append(lines, fmt.Sprintf("  %s %s: %s", f.PolicyID, f.Resource, f.Message))
	}
	slices.Sort(lines)
	if err != nil {
		lines = append(lines, "  error: "+err.Error())
	}
	return strings.Join(lines, "\n")
}

func errorsOf(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%v", errs)
}
