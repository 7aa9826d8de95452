package policycmd

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

// runPolicies runs kubectl mesh ARGS with the policies commands; they
// never need a cluster.
func runPolicies(t *testing.T, args ...string) (string, error) {
	t.Helper()
	f := cmdtesting.NewFactory(t)
	out, _, err := f.Run(t, "", args, NewCmdPolicies)
	if f.Connects != 0 {
		t.Errorf("kubectl mesh %s made %d clients", strings.Join(args, " "), f.Connects)
	}
	return out, err
}

func TestPoliciesCommandErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		wantOut string // printed before the error
	}{
		{[]string{"policies", "list", "-o", "xml"}, `--output: unknown format "xml" (allowed: table, wide, json, yaml)`, ""},
		{[]string{"policies", "list", "--mesh", "consul"}, `--mesh: unknown mesh "consul" (allowed: istio, linkerd, smi, gamma, any, custom)`, ""},
		{[]string{"policies", "list", "extra"}, `unknown command "extra" for "kubectl-mesh policies list"`, ""},
		{[]string{"policies", "list", "--policy-dir", "/nonexistent"}, "--policy-dir: reading policies from /nonexistent: ", ""},
		{[]string{"policies", "describe"}, "requires at least 1 arg(s), only received 0", ""},
		{[]string{"policies", "describe", "NOPE1"}, `no policy has the ID or alias "NOPE1" (see kubectl mesh policies list)`, ""},
		{[]string{"policies", "describe", "MESH1101", "NOPE1"}, `no policy has the ID or alias "NOPE1"`, "ID:          MESH1101\n"},
		{[]string{"policies", "describe", "MESH1101", "--policy-dir", "/nonexistent"}, "--policy-dir: reading policies from /nonexistent: ", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			out, err := runPolicies(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if !strings.HasPrefix(out, tt.wantOut) || (tt.wantOut == "" && out != "") {
				t.Errorf("stdout:\n%s\nwant it to start with %q", out, tt.wantOut)
			}
		})
	}
}

func TestPoliciesListFormats(t *testing.T) {
	ids := func(t *testing.T, out string, unmarshal func([]byte, any) error) []string {
		t.Helper()
		var metas []struct {
			ID string `json:"id"`
		}
		if err := unmarshal([]byte(out), &metas); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		var got []string
		for _, m := range metas {
			got = append(got, m.ID)
		}
		return got
	}
	tests := []struct {
		name   string
		args   []string
		prefix string // of every ID listed; "" for none listed
	}{
		{"json of a family", []string{"--mesh", "linkerd", "-o", "json"}, "MESH2"},
		{"yaml of a family", []string{"--mesh", "gamma", "-o", "yaml"}, "MESH4"},
		{"json of none", []string{"--mesh", "custom", "-o", "json"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runPolicies(t, append([]string{"policies", "list"}, tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			unmarshal := json.Unmarshal
			if tt.args[len(tt.args)-1] == "yaml" {
				unmarshal = func(b []byte, v any) error { return yaml.Unmarshal(b, v) }
			}
			got := ids(t, out, unmarshal)
			if tt.prefix == "" && (len(got) != 0 || strings.TrimSpace(out) != "[]") {
				t.Errorf("listed %v, want []:\n%s", got, out)
			}
			if tt.prefix != "" && len(got) == 0 {
				t.Error("listed nothing")
			}
			for _, id := range got {
				if !strings.HasPrefix(id, tt.prefix) {
					t.Errorf("%s is not of the family asked for (%s...)", id, tt.prefix)
				}
			}
		})
	}
}

// TestPoliciesDescribeSeveral: one block each, a blank line between them.
func TestPoliciesDescribeSeveral(t *testing.T) {
	out, err := runPolicies(t, "policies", "describe", "MESH1101", "MESH2002")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "ID:          MESH1101\n") || !strings.Contains(out, "\n\nID:          MESH2002\n") || strings.Count(out, "ID:  ") != 2 {
		t.Errorf("describe MESH1101 MESH2002:\n%s", out)
	}
}

// The default table of the whole library fits table.Width, one line a
// policy: no KINDS cell or title so wide that titles wrap.
func TestPoliciesListFitsWidth(t *testing.T) {
	out, err := runPolicies(t, "policies", "list")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(out) {
		line = strings.TrimSuffix(line, "\n")
		if n := utf8.RuneCountInString(line); n > table.Width {
			t.Errorf("%d runes, over %d: %s", n, table.Width, line)
		}
		if !strings.HasPrefix(line, "MESH") && !strings.HasPrefix(line, "ID ") {
			t.Errorf("a wrapped row: %q", line)
		}
	}
}

func TestKindsCell(t *testing.T) {
	for _, tt := range []struct {
		kinds []string
		want  string
	}{
		{[]string{"VirtualService"}, "VirtualService"},
		{[]string{"VirtualService", "Gateway"}, "VirtualService +1 more"},
		{[]string{"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}, "2 kinds"},
		{[]string{"MutatingWebhookConfiguration"}, "MutatingWebhookConfigu…"},
	} {
		if got := kindsCell(tt.kinds); got != tt.want {
			t.Errorf("kindsCell(%q) = %q, want %q", tt.kinds, got, tt.want)
		}
	}
}
