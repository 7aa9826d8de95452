package admission

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// configMapValidator is the validator the webhook is wired with: the
// ConfigMap's .rego keys, named configmap/NAME/KEY, compiled with the
// library as ValidateCustom does.
func configMapValidator(engine *policies.Engine, calls *atomic.Int32) func(context.Context, *corev1.ConfigMap) error {
	return func(ctx context.Context, cm *corev1.ConfigMap) error {
		calls.Add(1)
		var sources []policies.Source
		for key, text := range cm.Data {
			if strings.HasSuffix(key, ".rego") {
				sources = append(sources, policies.Source{Name: "configmap/" + cm.Name + "/" + key, Text: text})
			}
		}
		sort.Slice(sources, func(i, j int) bool { return sources[i].Name < sources[j].Name })
		return engine.ValidateCustom(ctx, sources)
	}
}

const goodPolicy = `# METADATA
# title: No latest tag
# description: Images are pinned.
# custom:
#   id: ACME100
#   severity: error
#   enforcement: deny
#   kinds: [Pod]
package acme.latest

import rego.v1

violation contains {"msg": "image uses :latest"} if {
	some c in input.review.object.spec.containers
	endswith(c.image, ":latest")
}
`

func configMapRequest(t testing.TB, op admissionv1.Operation, ns, name string, labels map[string]string, data map[string]string) admission.Request {
	t.Helper()
	cm := corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Data:       data,
	}
	raw, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "uid-cm",
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "configmaps"},
		Namespace: ns,
		Name:      name,
		Operation: op,
	}}
	if op == admissionv1.Delete {
		req.OldObject = runtime.RawExtension{Raw: raw}
	} else {
		req.Object = runtime.RawExtension{Raw: raw}
	}
	return req
}

func TestPolicyConfigMaps(t *testing.T) {
	policyLabel := map[string]string{PolicyLabel: "true"}
	badPolicy := strings.Replace(goodPolicy, "endswith(", "ends_with(", 1) // a misspelt built-in at line 15
	tests := []struct {
		name          string
		op            admissionv1.Operation
		namespace     string
		labels        map[string]string
		data          map[string]string
		wantAllowed   bool
		wantMessage   []string // substrings of the denial
		wantValidated bool
	}{
		{"a good policy is accepted", admissionv1.Create, "mesh-system", policyLabel,
			map[string]string{"deny-latest.rego": goodPolicy}, true, nil, true},
		{"a bad policy is refused with file:line", admissionv1.Create, "mesh-system", policyLabel,
			map[string]string{"deny-latest.rego": badPolicy}, false,
			[]string{"policy ConfigMap mesh-system/acme-policies refused", "configmap/acme-policies/deny-latest.rego:15"}, true},
		{"an update to a bad policy is refused", admissionv1.Update, "mesh-system", policyLabel,
			map[string]string{"deny-latest.rego": badPolicy}, false,
			[]string{"configmap/acme-policies/deny-latest.rego:15"}, true},
		{"a delete is not validated", admissionv1.Delete, "mesh-system", policyLabel,
			map[string]string{"deny-latest.rego": badPolicy}, true, nil, false},
		{"without the label it is any ConfigMap", admissionv1.Create, "mesh-system", map[string]string{PolicyLabel: "false"},
			map[string]string{"deny-latest.rego": badPolicy}, true, nil, false},
		{"in another namespace it is any ConfigMap", admissionv1.Create, "shop", policyLabel,
			map[string]string{"deny-latest.rego": badPolicy}, true, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := testEngine(t)
			var calls atomic.Int32
			// mesh-system is excluded, as the webhook's own namespace is:
			// policy ConfigMaps are validated all the same.
			h, m := newTestHandler(t, Config{
				Engine:                   engine,
				PolicyConfigMapNamespace: "mesh-system",
				PolicyConfigMapValidator: configMapValidator(engine, &calls),
			})
			req := configMapRequest(t, tt.op, tt.namespace, "acme-policies", tt.labels, tt.data)
			resp := h.Handle(t.Context(), req)
			if resp.Allowed != tt.wantAllowed {
				t.Fatalf("allowed = %v, want %v: %+v", resp.Allowed, tt.wantAllowed, resp.Result)
			}
			if !tt.wantAllowed {
				if resp.Result.Code != http.StatusForbidden {
					t.Errorf("code %d, want 403", resp.Result.Code)
				}
				for _, w := range tt.wantMessage {
					if !strings.Contains(resp.Result.Message, w) {
						t.Errorf("denial does not contain %q:\n%s", w, resp.Result.Message)
					}
				}
				verdict := testutil.ToFloat64(m.AdmissionRequests.WithLabelValues(string(tt.op), "ConfigMap", verdictDenied))
				if verdict != 1 {
					t.Errorf("admission requests{ConfigMap,denied} = %v, want 1", verdict)
				}
			}
			if got := calls.Load() == 1; got != tt.wantValidated {
				t.Errorf("validated: %v, want %v", got, tt.wantValidated)
			}
			// Validation never swaps the set in force.
			if got := len(engine.Policies()); got != len(testPolicies()) {
				t.Errorf("%d policies in force after validation, want %d", got, len(testPolicies()))
			}
		})
	}
}
