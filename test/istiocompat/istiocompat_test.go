// Package istiocompat measures the policy library against Istio's own
// analyzers: `kubectl mesh check` runs over the inputs of every case of the
// test grid in istio.io/istio's pkg/config/analysis/analyzers
// (analyzers_test.go), read from the module go.mod requires at test time,
// and its findings are compared, per IST code that a policy claims as an
// alias, with what the grid expects (code and resource).
//
//	go test ./test/istiocompat -run TestIstioAnalyzerParity -v
//
// prints the per-code table (expected / found / missed / extra, recall and
// precision); the test fails when a code finds less, or reports more
// wrongly, than testdata/floor.txt records. -update rewrites the floor once
// nothing regressed. testdata/differences.yaml lists what the library
// reports differently on purpose, with the reason: those still count.
package istiocompat

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/policycmd"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

const (
	floorFile       = "testdata/floor.txt"
	differencesFile = "testdata/differences.yaml"
	analyzersFile   = "testdata/analyzers.yaml"
)

// finding is one finding of check, with the codes it may stand for.
type finding struct {
	policies.Finding
	Origin string   // as Istio names the resource: "Kind ns/name" or "Kind name"
	Codes  []string // the policy's IST aliases
	used   bool
}

// verdict is what one case gave for one code.
type verdict struct {
	Case, Code, Origin string
	// Kind is "missed" (expected, not found) or "extra" (found, counted
	// against precision), or "found".
	Kind   string
	Policy string // for found and extra
}

type counts struct {
	Expected, Found, Extra int
	// Of the misses and extras, those testdata/differences.yaml lists.
	DeliberateMissed, DeliberateExtra int
}

func (c counts) missed() int { return c.Expected - c.Found }

// difference is an entry of testdata/differences.yaml.
type difference struct {
	Case     string `json:"case"`
	Code     string `json:"code"`
	Resource string `json:"resource"`
	Kind     string `json:"kind"` // missed | extra
	Reason   string `json:"reason"`
}

func TestIstioAnalyzerParity(t *testing.T) {
	dir, err := analyzersDir()
	if err != nil {
		t.Skipf("Istio's analyzer tests are not available: %v", err)
	}
	grid, err := readGrid(dir)
	if err != nil {
		t.Fatal(err)
	}
	aliased, err := aliasedCodes()
	if err != nil {
		t.Fatal(err)
	}
	var relevance map[string][]string // policy ID -> analyzers
	readYAML(t, analyzersFile, &relevance)
	var differences []difference
	readYAML(t, differencesFile, &differences)

	var verdicts []verdict
	gridCodes := map[string]int{} // every code the grid expects -> messages
	unjudged := 0
	var outOfScope []string
	for _, c := range caseNames(grid) {
		for _, m := range c.Expected {
			gridCodes[m.Code]++
		}
		if reason := outOfScopeReason(c.gridCase); reason != "" {
			outOfScope = append(outOfScope, fmt.Sprintf("%q: %s", c.id, reason))
			continue
		}
		found, err := check(t, dir, c.gridCase)
		if err != nil {
			t.Errorf("%s: %v", c.id, err)
			continue
		}
		v, n := judge(c.id, c.gridCase, found, aliased, relevance)
		verdicts = append(verdicts, v...)
		unjudged += n
	}

	listed := func(v verdict) bool {
		return slices.ContainsFunc(differences, func(d difference) bool {
			return d.Case == v.Case && d.Code == v.Code && d.Resource == v.Origin && d.Kind == v.Kind
		})
	}
	table := map[string]*counts{}
	for code := range aliased {
		table[code] = &counts{}
	}
	observed := map[string]bool{} // differences seen: case|code|resource|kind
	for _, v := range verdicts {
		c := table[v.Code]
		switch v.Kind {
		case "found":
			c.Expected++
			c.Found++
		case "missed":
			c.Expected++
			if listed(v) {
				c.DeliberateMissed++
			}
		case "extra":
			c.Extra++
			if listed(v) {
				c.DeliberateExtra++
			}
		}
		observed[v.Case+"|"+v.Code+"|"+v.Origin+"|"+v.Kind] = true
	}
	for _, d := range differences {
		if d.Reason == "" {
			t.Errorf("%s: %s %s %s in %q has no reason", differencesFile, d.Kind, d.Code, d.Resource, d.Case)
		}
		if !observed[d.Case+"|"+d.Code+"|"+d.Resource+"|"+d.Kind] {
			t.Errorf("%s: %s %s %s in %q no longer happens: remove the entry", differencesFile, d.Kind, d.Code, d.Resource, d.Case)
		}
	}

	report := formatTable(table)
	var details strings.Builder
	for _, v := range verdicts {
		if v.Kind == "found" {
			continue
		}
		mark := ""
		if listed(v) {
			mark = " (deliberate, " + differencesFile + ")"
		}
		fmt.Fprintf(&details, "  %-6s %s %s in %q%s%s\n", v.Kind, v.Code, v.Origin, v.Case, cmp.Or(prefix(" by ", v.Policy), ""), mark)
	}
	// Codes no policy aliases, the most expected first.
	var codes []string
	covered := 0
	for code := range gridCodes {
		if _, ok := aliased[code]; ok {
			covered++
		} else {
			codes = append(codes, code)
		}
	}
	slices.SortFunc(codes, func(a, b string) int { return cmp.Or(gridCodes[b]-gridCodes[a], strings.Compare(a, b)) })
	uncovered := make([]string, len(codes))
	for i, code := range codes {
		uncovered[i] = fmt.Sprintf("%s %d", code, gridCodes[code])
	}
	t.Logf("Istio analyzer grid (%s), %d cases, %d of the %d codes it uses aliased by a policy:\n%s\nmisses and extras:\n%s\n"+
		"findings of aliased policies in cases of other analyzers (not counted): %d\ncodes the grid uses that no policy aliases (expected messages): %s\ncases out of scope:\n  %s",
		dir, len(grid), covered, len(gridCodes), report, details.String(), unjudged, strings.Join(uncovered, ", "), strings.Join(outOfScope, "\n  "))

	compareFloor(t, table)
}

// outOfScopeReason says why a case is not run: check has no equivalent of
// its mesh networks file (a mesh config goes to check --mesh-config).
func outOfScopeReason(c gridCase) string {
	if c.MeshNetworksFile != "" {
		return "needs a mesh networks file (" + c.MeshNetworksFile + "): multi-cluster registries are not checked"
	}
	return ""
}

func prefix(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// namedCase is a grid case with a name that tells it from the others: the
// grid repeats some names, so the second "x" is "x (2)".
type namedCase struct {
	id string
	gridCase
}

func caseNames(grid []gridCase) []namedCase {
	seen := map[string]int{}
	var out []namedCase
	for _, c := range grid {
		seen[c.Name]++
		id := c.Name
		if n := seen[c.Name]; n > 1 {
			id = fmt.Sprintf("%s (%d)", c.Name, n)
		}
		out = append(out, namedCase{id, c})
	}
	return out
}

// aliasedCodes are the IST codes the library's policies claim, each with
// the policies that claim it.
func aliasedCodes() (map[string][]string, error) {
	engine, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		return nil, err
	}
	codes := map[string][]string{}
	for _, m := range engine.Policies() {
		for _, a := range m.Aliases {
			if strings.HasPrefix(a, "IST") {
				codes[a] = append(codes[a], m.ID)
			}
		}
	}
	return codes, nil
}

// check runs `kubectl mesh check` over the case's files, as a user would,
// and names each finding's resource as Istio does.
func check(t *testing.T, dir string, c gridCase) ([]*finding, error) {
	t.Helper()
	args := []string{"check", "-o", "json", "--severity", "info"}
	var paths []string
	for _, f := range c.InputFiles {
		p := filepath.Join(dir, f)
		paths = append(paths, p)
		args = append(args, "-f", p)
	}
	if c.MeshConfigFile != "" {
		args = append(args, "--mesh-config", filepath.Join(dir, c.MeshConfigFile))
	}
	stdout, stderr, err := cmdtesting.NewFactory(t).Run(t, "", args, policycmd.NewCmdCheck)
	if err != nil && !strings.Contains(stderr, "error:") && stdout == "" {
		return nil, fmt.Errorf("check: %v\n%s", err, stderr)
	}
	var report struct {
		Findings []policies.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		return nil, fmt.Errorf("check -o json: %v\n%s%s", err, stdout, stderr)
	}
	// Objects without a namespace in the files: Istio names them without one.
	objects, _ := manifest.ReadPaths(paths, false, nil)
	noNamespace := map[string]bool{}
	for _, o := range objects {
		if o.Namespace() == "" {
			noNamespace[o.Kind()+"/"+o.Name()] = true
		}
	}
	var out []*finding
	for _, f := range report.Findings {
		r := f.Resource
		origin := r.Kind + " " + r.Namespace + "/" + r.Name
		if r.Namespace == "" || (noNamespace[r.Kind+"/"+r.Name] && r.Namespace == "default") {
			origin = r.Kind + " " + r.Name
		}
		var codes []string
		for _, a := range f.Aliases {
			if strings.HasPrefix(a, "IST") {
				codes = append(codes, a)
			}
		}
		out = append(out, &finding{Finding: f, Origin: origin, Codes: codes})
	}
	return out, nil
}

// judge matches the findings of one case with its expectations. An
// expected message of an aliased code is found by a finding on the same
// resource whose policy claims the code and checks what the case's
// analyzer checks (testdata/analyzers.yaml); such a finding on a resource
// where the case expects none of its codes is an extra. A resource the
// case expects a code on several times may draw fewer or more findings:
// each expected message is found once, and findings beyond those are not
// extras (Istio and the policy count differently, per route or per
// object). Findings of policies that check something else than the case's
// analyzer are not judged; unjudged says how many.
func judge(id string, c gridCase, found []*finding, aliased map[string][]string, relevance map[string][]string) (verdicts []verdict, unjudged int) {
	var relevant []*finding
	for _, f := range found {
		if len(f.Codes) == 0 {
			continue
		}
		if !slices.Contains(relevance[f.PolicyID], c.Analyzer) {
			unjudged++
			continue
		}
		relevant = append(relevant, f)
	}
	// Findings that can stand for one code only are used first.
	slices.SortStableFunc(relevant, func(a, b *finding) int { return len(a.Codes) - len(b.Codes) })
	expectedOn := map[string]bool{} // origin|code
	for _, m := range c.Expected {
		if _, ok := aliased[m.Code]; !ok {
			continue
		}
		expectedOn[m.Origin+"|"+m.Code] = true
		v := verdict{Case: id, Code: m.Code, Origin: m.Origin, Kind: "missed"}
		for _, f := range relevant {
			if !f.used && f.Origin == m.Origin && slices.Contains(f.Codes, m.Code) {
				f.used = true
				v.Kind, v.Policy = "found", f.PolicyID
				break
			}
		}
		verdicts = append(verdicts, v)
	}
	extras := map[string]bool{}
	for _, f := range relevant {
		if f.used || slices.ContainsFunc(f.Codes, func(code string) bool { return expectedOn[f.Origin+"|"+code] }) {
			continue
		}
		key := f.Origin + "|" + f.PolicyID
		if extras[key] {
			continue // one extra per resource and policy
		}
		extras[key] = true
		verdicts = append(verdicts, verdict{Case: id, Code: f.Codes[0], Origin: f.Origin, Kind: "extra", Policy: f.PolicyID})
	}
	return verdicts, unjudged
}

// formatTable prints the per-code table; the last column counts the
// misses and extras of differences.yaml ("missed/extra").
func formatTable(table map[string]*counts) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "code\texpected\tfound\tmissed\textra\trecall\tprecision\tdeliberate\t")
	var total counts
	row := func(name string, c counts) {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%d/%d\t\n", name, c.Expected, c.Found, c.missed(), c.Extra,
			ratio(c.Found, c.Expected), ratio(c.Found, c.Found+c.Extra), c.DeliberateMissed, c.DeliberateExtra)
	}
	for _, code := range slices.Sorted(maps.Keys(table)) {
		c := table[code]
		total.Expected += c.Expected
		total.Found += c.Found
		total.Extra += c.Extra
		total.DeliberateMissed += c.DeliberateMissed
		total.DeliberateExtra += c.DeliberateExtra
		row(code, *c)
	}
	row("total", total)
	_ = w.Flush() // writes to a strings.Builder
	return b.String()
}

func ratio(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(a)/float64(b))
}

// compareFloor fails on a code that finds less or reports more extras than
// the floor; -update rewrites the floor when nothing regressed, and an
// improvement asks for it, so the floor only goes up.
func compareFloor(t *testing.T, table map[string]*counts) {
	t.Helper()
	floor := map[string]counts{}
	if data, err := os.ReadFile(floorFile); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) < 5 || !strings.HasPrefix(f[0], "IST") {
				continue
			}
			var c counts
			if _, err := fmt.Sscanf(strings.Join(f[1:5], " "), "%d %d %d %d", &c.Expected, &c.Found, new(int), &c.Extra); err != nil {
				t.Fatalf("%s: %q: %v", floorFile, line, err)
			}
			if len(f) >= 8 {
				if _, err := fmt.Sscanf(f[7], "%d/%d", &c.DeliberateMissed, &c.DeliberateExtra); err != nil {
					t.Fatalf("%s: %q: %v", floorFile, line, err)
				}
			}
			floor[f[0]] = c
		}
	} else if !golden.Update() {
		t.Fatalf("%v: go test ./test/istiocompat -update writes it", err)
	}
	regressed, improved := false, false
	if len(floor) == 0 && golden.Update() {
		writeFloor(t, table)
		return
	}
	for _, code := range slices.Sorted(maps.Keys(floor)) {
		if _, ok := table[code]; !ok {
			t.Errorf("%s: no policy aliases %s any more (the floor has %d found)", floorFile, code, floor[code].Found)
			regressed = true
		}
	}
	for code, c := range table {
		f := floor[code]
		if c.Found < f.Found {
			t.Errorf("%s: %d of %d found, the floor is %d", code, c.Found, c.Expected, f.Found)
			regressed = true
		}
		// Extras listed in differences.yaml are on purpose: only the others
		// must not grow.
		if c.Extra-c.DeliberateExtra > f.Extra-f.DeliberateExtra {
			t.Errorf("%s: %d extra findings not in %s, the floor allows %d", code, c.Extra-c.DeliberateExtra, differencesFile, f.Extra-f.DeliberateExtra)
			regressed = true
		}
		if *c != f {
			improved = true
		}
	}
	switch {
	case regressed:
		return
	case golden.Update():
		writeFloor(t, table)
	case improved:
		t.Errorf("the figures changed for the better: raise the floor with go test ./test/istiocompat -update")
	}
}

func writeFloor(t *testing.T, table map[string]*counts) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# The floor of TestIstioAnalyzerParity: per aliased IST code, what Istio's\n" +
		"# analyzer grid expects and what kubectl mesh check finds of it. Found only\n" +
		"# goes up and extra only down: go test ./test/istiocompat -update after an\n" +
		"# improvement. The last column counts the misses and extras that\n" +
		"# differences.yaml lists (missed/extra): extras listed there do not count\n" +
		"# against the floor.\n")
	b.WriteString(formatTable(table))
	if err := os.WriteFile(floorFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
