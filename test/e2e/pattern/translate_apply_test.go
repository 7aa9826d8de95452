package pattern

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// TestTranslateApplyIstio server-side applies (dry run, strict field
// validation) every object of the Istio translator's golden files, so
// Istio's real CRD schemas accept every field the translator writes.
func TestTranslateApplyIstio(t *testing.T) {
	applyGoldens(t, "plugin/pattern/translate/istio/testdata", "translate-apply-istio")
}

// TestTranslateApplyGAMMA does the same for the GAMMA translator against
// Gateway API's standard-channel CRDs.
func TestTranslateApplyGAMMA(t *testing.T) {
	applyGoldens(t, "plugin/pattern/translate/gamma/testdata", "translate-apply-gamma")
}

// TestTranslateApplyRejectsUnknownFields proves the check has teeth: a
// field the CRD does not define fails the same dry-run apply.
func TestTranslateApplyRejectsUnknownFields(t *testing.T) {
	ns := harness.Namespace(t, "translate-apply-strict")
	for _, tc := range []struct{ name, doc, want string }{
		{
			name: "VirtualService",
			doc: `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad}
spec:
  hosts: [bad]
  http:
  - route: [{destination: {host: bad}}]
    retryBudget: {percent: 20}
`,
			want: `.spec.http[0].retryBudget: field not declared in schema`,
		},
		{
			name: "HTTPRoute",
			doc: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bad}
spec:
  parentRefs: [{group: "", kind: Service, name: bad}]
  rules:
  - backendRefs: [{name: bad, port: 80}]
    retry: {attempts: 2}
`,
			want: `.spec.rules[0].retry: field not declared in schema`,
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

// dryRunApply applies docs the way kubectl mesh apply does (server-side,
// field manager kubectl-mesh), as a server dry run with strict field
// validation, so an unknown or pruned field is an error, not a warning.
func dryRunApply(t *testing.T, ns, docs string) cmdrun.Result {
	t.Helper()
	return harness.KubectlStdin(t, docs, "apply", "--server-side", "--dry-run=server", "--validate=strict",
		"--field-manager=kubectl-mesh", "-n", ns, "-f", "-")
}

// intoNamespace moves the golden objects into the test's namespace, so
// tests do not share one; cluster-scoped objects stay as they are.
func intoNamespace(t *testing.T, data []byte, ns string) (string, int) {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out strings.Builder
	n := 0
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding a golden file: %v", err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if u.GetNamespace() != "" {
			u.SetNamespace(ns)
		}
		doc, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString("---\n")
		out.Write(doc)
		n++
	}
	return out.String(), n
}
