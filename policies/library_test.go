package policies_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
	"github.com/kubectl-mesh/kubectl-mesh/policies/scan"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

// MESH_POLICIES=linkerd/ (a path prefix under policies/) restricts the
// library tests to some policies, so that work in progress elsewhere in the
// library does not get in the way. Unset, everything is tested.
var only = os.Getenv("MESH_POLICIES")

func selected(path string) bool {
	path = strings.TrimPrefix(filepath.ToSlash(path), "policies/")
	return only == "" || strings.HasPrefix(path, "lib/") || strings.HasPrefix(path, only)
}

// library is the embedded library, restricted by MESH_POLICIES.
func library(t testing.TB) []policies.Source {
	t.Helper()
	all, err := policies.Library()
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(all, func(s policies.Source) bool { return !selected(s.Name) })
}

// meshDirs are the library's top-level directories and the ID range of each.
var meshDirs = map[string]string{"istio": "MESH1", "linkerd": "MESH2", "smi": "MESH3", "gamma": "MESH4", "any": "MESH5"}

type policyDir struct {
	mesh, name, path string
}

func (d policyDir) String() string { return d.mesh + "/" + d.name }

func listPolicyDirs(t testing.TB) []policyDir {
	t.Helper()
	var dirs []policyDir
	for mesh := range meshDirs {
		entries, err := os.ReadDir(mesh)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() && selected(filepath.Join(mesh, e.Name())+"/") {
				dirs = append(dirs, policyDir{mesh: mesh, name: e.Name(), path: filepath.Join(mesh, e.Name())})
			}
		}
	}
	slices.SortFunc(dirs, func(a, b policyDir) int { return strings.Compare(a.String(), b.String()) })
	return dirs
}

func fixtures(t testing.TB, d policyDir) (allowed, denied []string) {
	t.Helper()
	allowed, _ = filepath.Glob(filepath.Join(d.path, "testdata", "allowed-*.yaml"))
	denied, _ = filepath.Glob(filepath.Join(d.path, "testdata", "denied-*.yaml"))
	return allowed, denied
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// TestLibraryLayout holds every policy to docs/architecture.md principle 4: a directory
// with policy.rego, policy_test.rego and fixtures of both outcomes.
func TestLibraryLayout(t *testing.T) {
	engine := newEngine(t)
	byPackage := map[string]policies.Metadata{}
	for _, md := range engine.Policies() {
		byPackage[md.Package] = md
	}
	dirs := listPolicyDirs(t)
	if only == "" && len(dirs) < 40 {
		t.Errorf("the library has %d policies, want at least 40", len(dirs))
	}
	for _, d := range dirs {
		t.Run(d.String(), func(t *testing.T) {
			if !validName.MatchString(d.name) {
				t.Errorf("directory name %q must be a Rego identifier in snake_case", d.name)
			}
			pkg := "data.mesh." + d.mesh + "." + d.name
			md, ok := byPackage[pkg]
			if !ok {
				t.Fatalf("%s/policy.rego must declare package %s", d.path, strings.TrimPrefix(pkg, "data."))
			}
			if !strings.HasPrefix(md.ID, meshDirs[d.mesh]) {
				t.Errorf("%s: ID %s is outside the %snnn range of %s", d.path, md.ID, meshDirs[d.mesh], d.mesh)
			}
			testFile := filepath.Join(d.path, "policy_test.rego")
			src, err := os.ReadFile(testFile)
			if err != nil {
				t.Fatalf("every policy needs %s: %v", testFile, err)
			}
			mod, err := policies.ParseModule(policies.Source{Name: testFile, Text: string(src)})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := mod.Package.Path.String(), pkg+"_test"; got != want {
				t.Errorf("%s: package %s, want %s", testFile, strings.TrimPrefix(got, "data."), strings.TrimPrefix(want, "data."))
			}
			allowed, denied := fixtures(t, d)
			if len(allowed) == 0 || len(denied) == 0 {
				t.Errorf("%s/testdata needs allowed-*.yaml and denied-*.yaml fixtures (has %d and %d)", d.path, len(allowed), len(denied))
			}
		})
	}
}

// TestRegoUnitTests runs every policy_test.rego through the production compiler.
func TestRegoUnitTests(t *testing.T) {
	modules := map[string]*ast.Module{}
	for _, src := range library(t) {
		mod, err := policies.ParseModule(src)
		if err != nil {
			t.Fatal(err)
		}
		modules[src.Name] = mod
	}
	testsPerPackage := map[string]int{}
	for _, d := range listPolicyDirs(t) {
		name := filepath.Join(d.path, "policy_test.rego")
		src, err := os.ReadFile(name)
		if err != nil {
			continue // TestLibraryLayout reports it
		}
		mod, err := policies.ParseModule(policies.Source{Name: name, Text: string(src)})
		if err != nil {
			t.Fatal(err)
		}
		modules[name] = mod
		testsPerPackage[mod.Package.Path.String()] = 0
	}
	ctx := context.Background()
	ch, err := tester.NewRunner().
		SetCompiler(policies.NewCompiler()).
		SetModules(modules).
		RaiseBuiltinErrors(true).
		RunTests(ctx, nil)
	if err != nil {
		t.Fatalf("compiling the library with its tests: %v", err)
	}
	for res := range ch {
		testsPerPackage[res.Package]++
		name := strings.TrimPrefix(res.Package, "data.mesh.") + "/" + res.Name
		t.Run(name, func(t *testing.T) {
			switch {
			case res.Error != nil:
				t.Errorf("%s:%d: %v", res.Location.File, res.Location.Row, res.Error)
			case res.Fail:
				t.Errorf("%s:%d: test failed", res.Location.File, res.Location.Row)
			case res.Skip:
				t.Errorf("%s:%d: skipped tests are not allowed", res.Location.File, res.Location.Row)
			}
		})
	}
	for pkg, n := range testsPerPackage {
		if n == 0 {
			t.Errorf("%s has no test_ rules", pkg)
		}
	}
}

// TestFixtures reviews every fixture with the whole library: an allowed
// fixture draws no finding from its policy, a denied one at least one.
func TestFixtures(t *testing.T) {
	engine := newEngine(t)
	byPackage := map[string]policies.Metadata{}
	for _, md := range engine.Policies() {
		byPackage[md.Package] = md
	}
	for _, d := range listPolicyDirs(t) {
		md, ok := byPackage["data.mesh."+d.mesh+"."+d.name]
		if !ok {
			continue // TestLibraryLayout reports it
		}
		allowed, denied := fixtures(t, d)
		for _, file := range slices.Concat(allowed, denied) {
			t.Run(file, func(t *testing.T) {
				res := scanFile(t, engine, file)
				own := 0
				for _, f := range res.Findings {
					if f.PolicyID == md.ID {
						own++
					}
				}
				if strings.HasPrefix(filepath.Base(file), "allowed-") && own > 0 {
					t.Errorf("%s is allowed but %s reports:\n%s", file, md.ID, describe(res.Findings, md.ID))
				}
				if strings.HasPrefix(filepath.Base(file), "denied-") && own == 0 {
					t.Errorf("%s is denied but %s reports nothing; all findings:\n%s", file, md.ID, describe(res.Findings, ""))
				}
			})
		}
	}
}

// TestGrid pins the exact (policy, resource) pairs the whole library
// reports on every fixture, so a change to one policy that fires on
// another policy's fixture shows up in review.
func TestGrid(t *testing.T) {
	if only != "" {
		t.Skip("MESH_POLICIES is set: the grid covers the whole library")
	}
	engine := newEngine(t)
	var b strings.Builder
	for _, d := range listPolicyDirs(t) {
		allowed, denied := fixtures(t, d)
		for _, file := range slices.Concat(allowed, denied) {
			res := scanFile(t, engine, file)
			fmt.Fprintf(&b, "%s:\n", filepath.ToSlash(file))
			if len(res.Findings) == 0 {
				b.WriteString("  (none)\n")
			}
			var lines []string
			for _, f := range res.Findings {
				lines = append(lines, fmt.Sprintf("  %s %s", f.PolicyID, f.Resource))
			}
			slices.Sort(lines)
			b.WriteString(strings.Join(slices.Compact(lines), "\n"))
			if len(lines) > 0 {
				b.WriteString("\n")
			}
		}
	}
	golden.Assert(t, filepath.Join("testdata", "grid.golden"), b.String())
}

func scanFile(t *testing.T, engine *policies.Engine, file string) scan.Result {
	t.Helper()
	objects, errs := manifest.ReadPaths([]string{file}, false, nil)
	if len(errs) > 0 {
		t.Fatalf("reading %s: %v", file, errs)
	}
	res := scan.Run(context.Background(), engine, objects, scan.Options{})
	if len(res.Errors) > 0 {
		t.Fatalf("scanning %s: %v", file, res.Errors)
	}
	return res
}

func describe(findings []policies.Finding, onlyID string) string {
	var b strings.Builder
	for _, f := range findings {
		if onlyID == "" || f.PolicyID == onlyID {
			fmt.Fprintf(&b, "  %s %s: %s\n", f.PolicyID, f.Resource, f.Message)
		}
	}
	return b.String()
}

func newEngine(t testing.TB) *policies.Engine {
	t.Helper()
	engine, err := policies.New(context.Background(), policies.Options{Library: library(t)})
	if err != nil {
		t.Fatalf("compiling the library: %v", err)
	}
	return engine
}

// TestDocsUpToDate fails when docs/policies.md no longer matches METADATA.
func TestDocsUpToDate(t *testing.T) {
	if only != "" {
		t.Skip("MESH_POLICIES is set: the docs cover the whole library")
	}
	engine := newEngine(t)
	golden.Assert(t, filepath.Join("..", "docs", "policies.md"), policies.Markdown(engine.Policies()))
}
