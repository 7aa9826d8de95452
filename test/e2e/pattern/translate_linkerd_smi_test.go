package pattern

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// TestTranslateLinkerdSMIAccepted server-side applies (dry run, strict
// field validation) every object of the Linkerd and SMI translators'
// golden files, so the CRD schemas (the linkerd-crds stand-in chart, SMI's
// testdata CRDs) accept every field the translators write.
func TestTranslateLinkerdSMIAccepted(t *testing.T) {
	for _, tc := range []struct{ mesh, ns string }{
		{"linkerd", "translate-linkerd"},
		{"smi", "translate-smi"},
	} {
		t.Run(tc.mesh, func(t *testing.T) {
			applyGoldens(t, "plugin/pattern/translate/"+tc.mesh+"/testdata", tc.ns)
		})
	}
}

// TestTranslateLinkerdSMIRejectsInvalid proves the stand-in Linkerd
// schemas have teeth: unknown fields, values outside an enum and missing
// required fields fail the same dry-run apply.
func TestTranslateLinkerdSMIRejectsInvalid(t *testing.T) {
	ns := harness.Namespace(t, "translate-linkerd-strict")
	for _, tc := range []struct{ name, doc, want string }{
		{
			name: "HTTPRoute unknown field",
			doc: `apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: bad}
spec:
  parentRefs: [{group: core, kind: Service, name: bad, port: 80}]
  rules:
  - backendRefs: [{name: bad, port: 80}]
    retries: {attempts: 2}
`,
			want: `.spec.rules[0].retries: field not declared in schema`,
		},
		{
			name: "HTTPRoute path type",
			doc: `apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: bad}
spec:
  parentRefs: [{group: core, kind: Service, name: bad}]
  rules:
  - matches: [{path: {type: Prefix, value: /}}]
`,
			want: `spec.rules[0].matches[0].path.type: Unsupported value: "Prefix"`,
		},
		{
			name: "ServiceProfile budget without ttl",
			doc: `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: bad.translate-linkerd-strict.svc.cluster.local}
spec:
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10}
  routes: [{name: all, condition: {pathRegex: .*}}]
`,
			want: `spec.retryBudget.ttl: Required value`,
		},
		{
			name: "AuthorizationPolicy without authentications",
			doc: `apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: bad}
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: bad}
`,
			want: `spec.requiredAuthenticationRefs: Required value`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dryRunApply(t, ns, tc.doc)
			if r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
				t.Fatalf("want a rejection naming %s, got %v", tc.want, r)
			}
		})
	}
}

// sharedService finds the Services a golden file only annotates: they
// belong to the application, so the test creates them first.
var sharedService = regexp.MustCompile(`(?m)^# shared\napiVersion: v1\nkind: Service\nmetadata:\n(?:  .*\n)*?  name: (\S+)\n`)

// applyGoldens server-side dry-run applies every object of every golden
// file in dir into ns, creating first the Services goldens only annotate.
func applyGoldens(t *testing.T, dir, ns string) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	goldens, err := filepath.Glob(filepath.Join(root, dir, "*.golden"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden files in %s (%v)", dir, err)
	}
	harness.Namespace(t, ns)
	applied := 0
	for _, path := range goldens {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(data, []byte("error")) {
			continue // a refused translation has no objects
		}
		for _, m := range sharedService.FindAllSubmatch(data, -1) {
			name := string(m[1])
			if harness.Kubectl(t, "get", "service", name, "-n", ns).Code != 0 {
				harness.Must(t, harness.Kubectl(t, "create", "service", "clusterip", name, "--tcp=80:8080", "-n", ns))
			}
		}
		t.Run(strings.TrimSuffix(filepath.Base(path), ".golden"), func(t *testing.T) {
			docs, n := intoNamespace(t, data, ns)
			r := harness.Must(t, dryRunApply(t, ns, docs))
			if got := strings.Count(r.Stdout, "serverside-applied (server dry run)"); got != n {
				t.Fatalf("applied %d of %d objects:\n%v", got, n, r)
			}
			applied += n
		})
	}
	if applied == 0 {
		t.Fatal("no object was applied")
	}
}
