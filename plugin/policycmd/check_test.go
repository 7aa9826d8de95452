package policycmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

const checkService = `apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: shop
spec:
  selector: {app: reviews}
  ports:
  - name: http
    port: 9080
`

const checkBrokenVS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: shop
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings}
    timeout: 5s
`

const customPolicy = `# METADATA
# title: ConfigMaps need an owner label
# description: Every ConfigMap says who owns it.
# custom:
#   id: ACME001
#   severity: error
#   enforcement: deny
#   kinds: [ConfigMap]
package acme.owner

import rego.v1

violation contains {"msg": "metadata.labels.owner is missing"} if not input.review.object.metadata.labels.owner
`

func runCheck(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	stdout, stderr, err := cmdtesting.NewFactory(t).Run(t, stdin, append([]string{"check"}, args...), NewCmdCheck)
	if err != nil && err.Error() != "" {
		stderr += "Error: " + err.Error() + "\n"
	}
	return stdout, stderr, cmdutil.ExitCode(err)
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	clean := writeFile(t, dir, "clean/app.yaml", checkService+"---\n"+strings.ReplaceAll(checkBrokenVS, "ratings", "reviews"))
	broken := writeFile(t, dir, "broken.yaml", checkService+"---\n"+checkBrokenVS)
	malformed := writeFile(t, dir, "malformed.yaml", "apiVersion: v1\nkind: [\n---\n"+checkBrokenVS)
	policyDir := filepath.Join(dir, "custom")
	writeFile(t, policyDir, "owner.rego", customPolicy)
	badPolicyDir := filepath.Join(dir, "bad")
	writeFile(t, badPolicyDir, "owner.rego", strings.Replace(customPolicy, "severity: error", "severity: fatal", 1))
	configMap := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\n"

	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantOut    []string
		wantErrOut []string
	}{
		{name: "clean input passes", args: []string{"-f", clean, "--policy", "MESH1101"}, wantCode: 0,
			wantOut: []string{"No findings at or above warning: 2 objects checked against 1 policies."}},
		{name: "violation exits 3 with file:line", args: []string{"-f", broken, "--policy", "IST0101", "-o", "wide"}, wantCode: 3,
			wantOut: []string{"MESH1101", "shop/VirtualService/ratings", broken + ":12", `host "ratings" matches no Service or ServiceEntry`}},
		{name: "threshold above the finding passes", args: []string{"-f", broken, "--policy", "MESH1101", "--severity", "error"}, wantCode: 3},
		{name: "stdin", stdin: checkBrokenVS, args: []string{"-f", "-", "--policy", "MESH1101"}, wantCode: 3,
			wantOut: []string{"<stdin>:1"}},
		{name: "directory recursion", args: []string{"-f", dir, "-R", "--policy", "MESH1101", "-o", "json"}, wantCode: 1,
			wantOut: []string{`"policyID": "MESH1101"`}, wantErrOut: []string{malformed + ":2: malformed YAML"}},
		{name: "malformed document does not hide the rest", args: []string{"-f", malformed, "--policy", "MESH1101"}, wantCode: 1,
			wantOut: []string{malformed + ":4"}, wantErrOut: []string{malformed + ":2: malformed YAML", "1 input error: the check is incomplete"}},
		{name: "nested aliases are refused at once", stdin: string(inputlimit.BillionLaughs()), args: []string{"-f", "-"}, wantCode: 1,
			wantErrOut: []string{"<stdin>:1: document contains excessive aliasing: aliases add more than 400000 nodes", "1 input error: the check is incomplete"}},
		{name: "custom policy dir", stdin: configMap, args: []string{"-f", "-", "--policy-dir", policyDir, "--policy", "ACME001"}, wantCode: 3,
			wantOut: []string{"ACME001", "shop/ConfigMap/settings", "metadata.labels.owner is missing"}},
		{name: "bad custom policy is refused with file:line", stdin: configMap, args: []string{"-f", "-", "--policy-dir", badPolicyDir}, wantCode: 1,
			wantErrOut: []string{filepath.Join(badPolicyDir, "owner.rego") + `:1: METADATA: custom.severity: unknown severity "fatal"`}},
		{name: "unknown policy names the flag", args: []string{"-f", clean, "--policy", "MESH9999"}, wantCode: 1,
			wantErrOut: []string{`--policy: no policy has the ID or alias "MESH9999"`}},
		{name: "unknown severity names the flag", args: []string{"-f", clean, "--severity", "fatal"}, wantCode: 1,
			wantErrOut: []string{`--severity: unknown severity "fatal"`}},
		{name: "unknown output names the flag", args: []string{"-f", clean, "-o", "html"}, wantCode: 1,
			wantErrOut: []string{`--output: unknown format "html"`}},
		{name: "missing file", args: []string{"-f", filepath.Join(dir, "nope.yaml")}, wantCode: 1,
			wantErrOut: []string{`the path "` + filepath.Join(dir, "nope.yaml") + `" does not exist`}},
		{name: "-f with TYPE NAME", args: []string{"-f", clean, "virtualservice", "x"}, wantCode: 1,
			wantErrOut: []string{"cannot be combined with -f"}},
		{name: "unknown mesh kind", stdin: strings.Replace(checkBrokenVS, "kind: VirtualService", "kind: VirtualServce", 1),
			args: []string{"-f", "-"}, wantCode: 1,
			wantErrOut: []string{"<stdin>:1: unknown kind VirtualServce in networking.istio.io/v1"}},
		{name: "suppression annotation", args: []string{"-f", "-", "--policy", "MESH1101"}, wantCode: 0,
			stdin: strings.Replace(checkBrokenVS, "  namespace: shop\n", "  namespace: shop\n  annotations:\n    kubectl-mesh.io/suppress: IST0101\n", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCheck(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("stdout does not contain %q:\n%s", want, out)
				}
			}
			for _, want := range tt.wantErrOut {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, errOut)
				}
			}
		})
	}
}

func TestCheckJSONSummary(t *testing.T) {
	out, _, code := runCheck(t, checkService+"---\n"+checkBrokenVS, "-f", "-", "--policy", "MESH1101", "-o", "json")
	if code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
	var doc struct {
		Kind    string
		Summary struct {
			Objects, Findings, Error int
			Passed                   bool
		}
		Findings []struct {
			PolicyID string
			Source   struct {
				File string
				Line int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "CheckReport" || doc.Summary.Objects != 2 || doc.Summary.Findings != 2 || doc.Summary.Error != 2 || doc.Summary.Passed {
		t.Errorf("summary %+v", doc)
	}
	if doc.Findings[0].Source.File != "<stdin>" || doc.Findings[0].Source.Line != 12 {
		t.Errorf("finding source %+v, want <stdin>:12", doc.Findings[0].Source)
	}
}

func TestPoliciesCommands(t *testing.T) {
	run := func(args ...string) (string, error) {
		stdout, stderr, err := cmdtesting.NewFactory(t).Run(t, "", args, NewCmdPolicies)
		return stdout + stderr, err
	}
	out, err := run("policies", "list", "-o", "wide")
	if err != nil || !strings.Contains(out, "MESH1101   istio") || !strings.Contains(out, "IST0101,KIA1101") {
		t.Errorf("list: %v\n%s", err, out)
	}
	// The default table fits the width of a terminal; MESH5005 reviews 20
	// kinds, shown as the first and how many more.
	out, err = run("policies", "list")
	if err != nil || !strings.Contains(out, "VirtualService +19 more") || strings.Contains(out, "networking.istio.io/") {
		t.Errorf("list: %v\n%s", err, out)
	}
	for line := range strings.Lines(out) {
		if n := utf8.RuneCountInString(strings.TrimSuffix(line, "\n")); n > table.Width {
			t.Errorf("a line of %d columns, want at most %d: %q", n, table.Width, line)
		}
	}
	out, err = run("policies", "describe", "KIA1101")
	if err != nil || !strings.Contains(out, "ID:          MESH1101") || !strings.Contains(out, "Remediation:") {
		t.Errorf("describe by alias: %v\n%s", err, out)
	}
	if _, err = run("policies", "describe", "NOPE1"); err == nil || !strings.Contains(err.Error(), `no policy has the ID or alias "NOPE1"`) {
		t.Errorf("describe unknown: %v", err)
	}
	if _, err = run("policies", "list", "--mesh", "consul"); err == nil || !strings.Contains(err.Error(), `--mesh: unknown mesh "consul"`) {
		t.Errorf("list --mesh consul: %v", err)
	}
	customDir := filepath.Dir(writeFile(t, t.TempDir(), "owner.rego", customPolicy))
	out, err = run("policies", "list", "--mesh", "custom", "--policy-dir", customDir)
	if err != nil || !strings.Contains(out, "ACME001") || strings.Contains(out, "MESH1101") {
		t.Errorf("list custom: %v\n%s", err, out)
	}
}

func TestCheckMeshConfig(t *testing.T) {
	dir := t.TempDir()
	se := writeFile(t, dir, "se.yaml", `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: db
  namespace: shop
spec:
  hosts: [db.example.com]
  resolution: DNS
  ports:
  - number: 5432
    name: tcp
    protocol: TCP
`)
	stdout, _, code := runCheck(t, "", "-f", se, "--policy", "MESH1122")
	if code != cmdutil.ExitViolation || !strings.Contains(stdout, "MESH1122") {
		t.Fatalf("without a mesh config: exit %d, want MESH1122:\n%s", code, stdout)
	}
	// istiod allocates addresses when the MeshConfig says so: the policy reads
	// the file as the istio-system/istio ConfigMap.
	mesh := writeFile(t, dir, "mesh.yaml", "defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: \"true\"\n    ISTIO_META_DNS_AUTO_ALLOCATE: \"true\"\n")
	stdout, stderr, code := runCheck(t, "", "-f", se, "--policy", "MESH1122", "--mesh-config", mesh)
	if code != 0 {
		t.Fatalf("with --mesh-config: exit %d\n%s%s", code, stdout, stderr)
	}
	bad := writeFile(t, dir, "bad.yaml", "- not\n- a mapping\n")
	_, stderr, code = runCheck(t, "", "-f", se, "--mesh-config", bad)
	if code == 0 || !strings.Contains(stderr, "--mesh-config") {
		t.Errorf("a mesh config that is not a mapping: exit %d, stderr %q", code, stderr)
	}
	// A mesh config larger than any istiod runs with is refused before the
	// policies parse it again (OPA takes seconds on a large map).
	large := writeFile(t, dir, "large.yaml", "defaultConfig: {}\n"+strings.Repeat("#"+strings.Repeat("x", 1023)+"\n", 65))
	_, stderr, code = runCheck(t, "", "-f", se, "--mesh-config", large)
	if code != cmdutil.ExitError || !strings.Contains(stderr, "--mesh-config "+large+": 65 KiB, over the 64 KiB a MeshConfig may hold") {
		t.Errorf("a 65 KiB mesh config: exit %d, stderr %q", code, stderr)
	}
}

// A policy that needs cluster state the files lack says so: one line in the
// table, each policy and why with -o wide and in JSON. Once the files hold
// a workload, it judges.
func TestCheckSaysWhatItCouldNotJudge(t *testing.T) {
	dir := t.TempDir()
	rule := writeFile(t, dir, "dr.yaml", checkService+`---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: shop
spec:
  host: reviews
  subsets:
  - name: v9
    labels: {version: v9}
`)
	out, _, code := runCheck(t, "", "-f", rule)
	if code != 0 || !strings.Contains(out, "1 policy not judged: the input lacks the cluster state it needs (-o wide says which).") {
		t.Errorf("exit %d, table:\n%s", code, out)
	}
	out, _, _ = runCheck(t, "", "-f", rule, "-o", "wide")
	if !strings.Contains(out, "MESH1107   the input holds no Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob") {
		t.Errorf("-o wide:\n%s", out)
	}
	out, _, _ = runCheck(t, "", "-f", rule, "-o", "json")
	var doc struct {
		Unjudged []struct{ Policy, Reason string } `json:"unjudged"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Unjudged) != 1 || doc.Unjudged[0].Policy != "MESH1107" {
		t.Errorf("-o json unjudged = %+v (%v):\n%s", doc.Unjudged, err, out)
	}

	pod := writeFile(t, dir, "pod.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: reviews-v1
  namespace: shop
  labels: {app: reviews, version: v1}
spec:
  containers: [{name: reviews, image: reviews}]
`)
	out, _, code = runCheck(t, "", "-f", rule, "-f", pod, "-o", "wide")
	if code != 3 || !strings.Contains(out, "MESH1107") || strings.Contains(out, "Not judged") {
		t.Errorf("with a pod: exit %d, want MESH1107 judged (3):\n%s", code, out)
	}
}

// A policy that found something was judged, even where the files lack
// the cluster state it needs elsewhere: MESH1107 judges an empty node
// label without pods.
func TestCheckFindingsAreJudged(t *testing.T) {
	dir := t.TempDir()
	rule := writeFile(t, dir, "dr.yaml", checkService+`---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: shop
spec:
  host: reviews
  subsets:
  - name: zoneless
    labels: {topology.kubernetes.io/zone: ""}
`)
	out, _, code := runCheck(t, "", "-f", rule, "-o", "wide")
	if code != 3 || !strings.Contains(out, "MESH1107") || strings.Contains(out, "Not judged") {
		t.Errorf("exit %d, want MESH1107's finding and no 'not judged':\n%s", code, out)
	}
}
