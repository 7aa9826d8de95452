package checkbench

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate the Gatekeeper ports in testdata/gatekeeper")

// portedPolicy is a policy of the library ported to a Gatekeeper
// ConstraintTemplate and Constraint, for the comparisons with Gatekeeper.
type portedPolicy struct {
	id   string
	dir  string // under policies/istio
	kind string // the Constraint's kind
	// The kinds the Constraint matches: custom.kinds of the policy.
	group, matchKind string
}

// generatedPorts are ported mechanically by gatekeeperPort. MESH1115 is
// ported by hand (testdata/gatekeeper/mesh1115): it uses one helper of the
// library, inlined, so gator does not compile the library's other helpers.
var generatedPorts = []portedPolicy{
	{"MESH1101", "virtualservice_host", "MeshVirtualServiceHost", "networking.istio.io", "VirtualService"},
	{"MESH1102", "virtualservice_subset", "MeshVirtualServiceSubset", "networking.istio.io", "VirtualService"},
	{"MESH1303", "authorizationpolicy_allow_all", "MeshAuthorizationPolicyAllowAll", "security.istio.io", "AuthorizationPolicy"},
}

// The library helpers that the ported policies import, directly or not.
var portedLibs = []string{"k8s", "index", "gateway", "istio", "istio_config", "istio_traffic"}

func (p portedPolicy) file() string {
	return filepath.Join(gatekeeperDir, strings.ToLower(p.id)+".yaml")
}

var (
	regoV1Import = regexp.MustCompile(`(?m)^import rego\.v1\n`)
	libPackage   = regexp.MustCompile(`(?m)^package mesh\.lib\.`)
)

// gatekeeperRego makes a module of the library Gatekeeper's: libraries live
// under data.lib, and `import rego.v1` is not an import Gatekeeper allows
// (the source is Rego v1 anyway).
func gatekeeperRego(src string) string {
	src = regoV1Import.ReplaceAllString(src, "")
	src = strings.ReplaceAll(src, "data.mesh.lib.", "data.lib.mesh.")
	return libPackage.ReplaceAllString(src, "package lib.mesh.")
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	var b strings.Builder
	for line := range strings.SplitAfterSeq(s, "\n") {
		if strings.TrimSpace(line) != "" {
			b.WriteString(pad)
		}
		b.WriteString(line)
	}
	return b.String()
}

// gatekeeperPort returns the ConstraintTemplate and the Constraint of p:
// the policy and every library helper, each line as in policies/ but for
// what gatekeeperRego changes.
func gatekeeperPort(p portedPolicy) (string, error) {
	read := func(path string) (string, error) {
		b, err := os.ReadFile(filepath.Join("..", "..", "policies", path))
		return string(b), err
	}
	policy, err := read(filepath.Join("istio", p.dir, "policy.rego"))
	if err != nil {
		return "", err
	}
	policy = strings.Replace(gatekeeperRego(policy), "package mesh.istio."+p.dir+"\n", "package "+strings.ToLower(p.kind)+"\n", 1)
	var b strings.Builder
	fmt.Fprintf(&b, `# %[1]s (policies/istio/%[2]s/policy.rego) and the library helpers it
# may import (policies/lib), ported to a Gatekeeper ConstraintTemplate by
# test/checkbench/port_test.go: packages mesh.lib.X become lib.mesh.X
# (Gatekeeper takes libraries under data.lib only) and "import rego.v1" goes
# (the source is Rego v1); every other line is the library's. Generated:
# go test ./test/checkbench -run TestGatekeeperPortsUpToDate -update
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: %[3]s
spec:
  crd:
    spec:
      names:
        kind: %[4]s
  targets:
  - target: admission.k8s.gatekeeper.sh
    code:
    - engine: Rego
      source:
        version: "v1"
        rego: |
%[5]s        libs:
`, p.id, p.dir, strings.ToLower(p.kind), p.kind, indent(policy, 10))
	for _, lib := range portedLibs {
		src, err := read(filepath.Join("lib", lib+".rego"))
		if err != nil {
			return "", err
		}
		b.WriteString("        - |\n" + indent(gatekeeperRego(src), 10))
	}
	fmt.Fprintf(&b, `---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: %s
metadata:
  name: %s
spec:
  enforcementAction: deny
  match:
    kinds:
    - apiGroups: [%q]
      kinds: [%q]
`, p.kind, strings.ToLower(p.id), p.group, p.matchKind)
	return b.String(), nil
}

// TestGatekeeperPortsUpToDate fails when a ported policy or helper changed
// and its port did not (-update regenerates them).
func TestGatekeeperPortsUpToDate(t *testing.T) {
	for _, p := range generatedPorts {
		want, err := gatekeeperPort(p)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(p.file(), []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p.file())
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s is out of date: go test ./test/checkbench -run TestGatekeeperPortsUpToDate -update", p.file())
		}
	}
}
