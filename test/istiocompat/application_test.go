package istiocompat

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/policycmd"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// TestRealisticApplication checks a bookstore application as a team keeps
// it in Git (testdata/bookstore.yaml, written for this test): namespaces,
// Deployments, Services and Istio configuration with mistakes planted on
// purpose, each marked "# planted: MESHxxxx" before the object (or the
// part of it) that holds it. check must find every planted mistake, on
// its object, and nothing else at any severity: the grid's edge cases
// aside, a new policy must not make an ordinary application noisy.
// (istioctl analyze --use-kube=false finds 3 of the 8: it reads no
// Deployments and Services from files.)
func TestRealisticApplication(t *testing.T) {
	const path = "testdata/bookstore.yaml"
	want := plantedMistakes(t, path)
	stdout, stderr, err := cmdtesting.NewFactory(t).Run(t, "", []string{"check", "-f", path, "-o", "json", "--severity", "info"}, policycmd.NewCmdCheck)
	if err != nil && stdout == "" {
		t.Fatalf("check: %v\n%s", err, stderr)
	}
	var report struct {
		Findings []policies.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("check -o json: %v\n%s", err, stdout)
	}
	var got []string
	for _, f := range report.Findings {
		got = append(got, f.PolicyID+" "+f.Resource.Kind+"/"+f.Resource.Name)
	}
	slices.Sort(got)
	got = slices.Compact(got)
	if !slices.Equal(got, want) {
		t.Errorf("findings (policy, object):\n  %s\nwant the planted mistakes:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

var plantedLine = regexp.MustCompile(`^\s*# planted: (MESH\d+)`)

// plantedMistakes reads the "# planted:" markers of a file as "ID
// Kind/name" of the object each one is in.
func plantedMistakes(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out, pending []string
	var kind, name string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := scanner.Text()
		switch m := plantedLine.FindStringSubmatch(line); {
		case line == "---":
			kind, name = "", ""
		case m != nil && name != "": // inside an object, after its name
			out = append(out, m[1]+" "+kind+"/"+name)
		case m != nil:
			pending = append(pending, m[1])
		case strings.HasPrefix(line, "kind: "):
			kind = strings.TrimPrefix(line, "kind: ")
		case strings.HasPrefix(line, "  name: ") && name == "":
			name = strings.TrimPrefix(line, "  name: ")
			for _, id := range pending {
				out = append(out, id+" "+kind+"/"+name)
			}
			pending = nil
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no planted mistakes", path)
	}
	slices.Sort(out)
	return out
}
