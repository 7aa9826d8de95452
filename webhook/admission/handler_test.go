package admission

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

// testPolicy is a custom policy source with the given METADATA custom block.
func testPolicy(name, pkg, custom, body string) policies.Source {
	return policies.Source{Name: name, Text: `# METADATA
# title: Test policy
# description: A policy for tests.
# custom:
` + custom + `
package ` + pkg + `

import rego.v1

` + body}
}

// testPolicies exercise every verdict on VirtualServices; the spec fields
// of the object under review choose which ones fire.
func testPolicies() []policies.Source {
	const vs = "#   kinds: [networking.istio.io/VirtualService]"
	return []policies.Source{
		testPolicy("p/deny.rego", "acme.deny", "#   id: ACME001\n#   severity: error\n#   enforcement: deny\n"+vs,
			`violation contains {"msg": sprintf("spec.deny names %s", [d])} if some d in input.review.object.spec.deny`+"\n"),
		testPolicy("p/block.rego", "acme.block", "#   id: ACME002\n#   severity: error\n#   enforcement: deny\n"+vs,
			`violation contains {"msg": "spec.block is set"} if input.review.object.spec.block`+"\n"),
		testPolicy("p/warn.rego", "acme.warn", "#   id: ACME003\n#   severity: warning\n#   enforcement: warn\n"+vs,
			`violation contains {"msg": sprintf("spec.warn names %s", [w])} if some w in input.review.object.spec.warn`+"\n"),
		testPolicy("p/audit.rego", "acme.audit", "#   id: ACME004\n#   severity: info\n#   enforcement: audit\n"+vs,
			`violation contains {"msg": "spec.audit is set"} if input.review.object.spec.audit`+"\n"),
		// Two values for one complete rule: an eval_conflict_error at run time.
		testPolicy("p/conflict.rego", "acme.conflict", "#   id: ACME005\n#   severity: error\n#   enforcement: deny\n"+vs,
			"x := \"one\" if input.review.object.spec.conflict\n\nx := \"two\" if input.review.object.spec.conflict\n\nviolation contains {\"msg\": x} if true\n"),
		testPolicy("p/protect.rego", "acme.protect", "#   id: ACME006\n#   severity: error\n#   enforcement: deny\n#   operations: [DELETE]\n"+vs,
			`violation contains {"msg": sprintf("%s is protected (object %v)", [input.review.oldObject.metadata.name, input.review.object])} if input.review.oldObject.metadata.labels.protected == "true"`+"\n"),
		testPolicy("p/namespace.rego", "acme.namespace", "#   id: ACME007\n#   severity: error\n#   enforcement: deny\n#   kinds: [Namespace]",
			`violation contains {"msg": "no new namespaces"} if true`+"\n"),
	}
}

func testEngine(t testing.TB) *policies.Engine {
	t.Helper()
	e, err := policies.New(context.Background(), policies.Options{Library: []policies.Source{}, Custom: testPolicies()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func virtualService(ns, name string, spec map[string]any, labels map[string]any) map[string]any {
	meta := map[string]any{"name": name, "namespace": ns}
	if labels != nil {
		meta["labels"] = labels
	}
	return map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": meta, "spec": spec}
}

func rawJSON(t testing.TB, obj map[string]any) runtime.RawExtension {
	t.Helper()
	if obj == nil {
		return runtime.RawExtension{}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.RawExtension{Raw: b}
}

func vsRequest(t testing.TB, op admissionv1.Operation, ns, name string, obj, old map[string]any) admission.Request {
	t.Helper()
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "uid-1",
		Kind:      metav1.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"},
		Resource:  metav1.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"},
		Namespace: ns,
		Name:      name,
		Operation: op,
		UserInfo:  authenticationv1.UserInfo{Username: "alice", Groups: []string{"devs"}},
		Object:    rawJSON(t, obj),
		OldObject: rawJSON(t, old),
	}}
}

func namespaceRequest(t testing.TB, name string) admission.Request {
	t.Helper()
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "uid-ns",
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Namespace"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "namespaces"},
		Name:      name,
		Operation: admissionv1.Create,
		Object:    rawJSON(t, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}),
	}}
}

func newTestHandler(t testing.TB, cfg Config) (*Handler, *metrics.Metrics) {
	t.Helper()
	if cfg.Engine == nil {
		cfg.Engine = testEngine(t)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	if cfg.ExcludedNamespaces == nil {
		cfg.ExcludedNamespaces = []string{"kube-system", "mesh-system"}
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h, cfg.Metrics
}

func TestHandleVerdicts(t *testing.T) {
	type violation struct{ policy, severity string }
	tests := []struct {
		name         string
		req          func(t *testing.T) admission.Request
		wantAllowed  bool
		wantCode     int32
		wantReason   metav1.StatusReason
		wantMessage  string // exact, for denials; for errors (400, 500) a substring
		wantWarnings []string
		wantVerdict  string // the AdmissionRequests label
		wantErrors   string // the AdmissionErrors reason counted once, if any
		wantCounted  []violation
	}{
		{
			name: "clean object is allowed",
			req: func(t *testing.T) admission.Request {
				return vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{"hosts": []any{"reviews"}}, nil), nil)
			},
			wantAllowed: true, wantCode: http.StatusOK, wantVerdict: verdictAllowed,
		},
		{
			name: "deny lists every message of every deny policy, ID first",
			req: func(t *testing.T) admission.Request {
				return vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{"deny": []any{"b", "a"}, "block": true}, nil), nil)
			},
			wantCode: http.StatusForbidden, wantReason: metav1.StatusReasonForbidden,
			wantMessage: "ACME001: spec.deny names a; ACME001: spec.deny names b; ACME002: spec.block is set",
			wantVerdict: verdictDenied,
			wantCounted: []violation{{"ACME001", "error"}, {"ACME001", "error"}, {"ACME002", "error"}},
		},
		{
			name: "warn findings become warnings, one each",
			req: func(t *testing.T) admission.Request {
				return vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{"warn": []any{"x", "y"}}, nil), nil)
			},
			wantAllowed: true, wantCode: http.StatusOK,
			wantWarnings: []string{"ACME003: spec.warn names x", "ACME003: spec.warn names y"},
			wantVerdict:  verdictWarned,
			wantCounted:  []violation{{"ACME003", "warning"}, {"ACME003", "warning"}},
		},
		{
			name: "a denial keeps the warnings",
			req: func(t *testing.T) admission.Request {
				return vsRequest(t, admissionv1.Update, "shop", "reviews",
					virtualService("shop", "reviews", map[string]any{"block": true, "warn": []any{"x"}}, nil),
					virtualService("shop", "reviews", map[string]any{}, nil))
			},
			wantCode: http.StatusForbidden, wantReason: metav1.StatusReasonForbidden,
			wantMessage:  "ACME002: spec.block is set",
			wantWarnings: []string{"ACME003: spec.warn names x"},
			wantVerdict:  verdictDenied,
			wantCounted:  []violation{{"ACME002", "error"}, {"ACME003", "warning"}},
		},
		{
			name: "audit findings are allowed and counted",
			req: func(t *testing.T) admission.Request {
				return vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{"audit": true}, nil), nil)
			},
			wantAllowed: true, wantCode: http.StatusOK, wantVerdict: verdictAllowed,
			wantCounted: []violation{{"ACME004", "info"}},
		},
		{
			name: "objects in an excluded namespace are not evaluated",
			req: func(t *testing.T) admission.Request {
				return vsRequest(t, admissionv1.Create, "kube-system", "reviews", virtualService("kube-system", "reviews", map[string]any{"block": true}, nil), nil)
			},
			wantAllowed: true, wantCode: http.StatusOK, wantVerdict: verdictAllowed,
		},
		{
			name:        "an excluded Namespace object is not evaluated",
			req:         func(t *testing.T) admission.Request { return namespaceRequest(t, "mesh-system") },
			wantAllowed: true, wantCode: http.StatusOK, wantVerdict: verdictAllowed,
		},
		{
			name:     "another Namespace object is evaluated",
			req:      func(t *testing.T) admission.Request { return namespaceRequest(t, "shop") },
			wantCode: http.StatusForbidden, wantReason: metav1.StatusReasonForbidden,
			wantMessage: "ACME007: no new namespaces", wantVerdict: verdictDenied,
			wantCounted: []violation{{"ACME007", "error"}},
		},
		{
			name: "DELETE reviews the old object, the object is null",
			req: func(t *testing.T) admission.Request {
				return vsRequest(t, admissionv1.Delete, "shop", "reviews", nil,
					virtualService("shop", "reviews", map[string]any{"block": true}, map[string]any{"protected": "true"}))
			},
			wantCode: http.StatusForbidden, wantReason: metav1.StatusReasonForbidden,
			// ACME002 reviews CREATE and UPDATE only, so it does not fire.
			wantMessage: "ACME006: reviews is protected (object null)", wantVerdict: verdictDenied,
			wantCounted: []violation{{"ACME006", "error"}},
		},
		{
			name: "DELETE of an unprotected object is allowed",
			req: func(t *testing.T) admission.Request {
				return vsRequest(t, admissionv1.Delete, "shop", "reviews", nil, virtualService("shop", "reviews", map[string]any{}, nil))
			},
			wantAllowed: true, wantCode: http.StatusOK, wantVerdict: verdictAllowed,
		},
		{
			name: "an object that is not JSON answers 400",
			req: func(t *testing.T) admission.Request {
				req := vsRequest(t, admissionv1.Create, "shop", "reviews", nil, nil)
				req.Object.Raw = []byte(`{"metadata": `)
				return req
			},
			wantCode: http.StatusBadRequest, wantMessage: "decoding the object of VirtualService shop/reviews",
			wantVerdict: verdictError, wantErrors: "decode",
		},
		{
			name: "a policy failing at run time is named in a warning; the others still decide",
			req: func(t *testing.T) admission.Request {
				return vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{"conflict": true, "warn": []any{"x"}}, nil), nil)
			},
			wantAllowed: true, wantCode: http.StatusOK,
			wantWarnings: []string{
				"ACME003: spec.warn names x",
				"policies ACME005 failed at run time and were not enforced; the webhook log has the error",
			},
			wantVerdict: verdictWarned, wantErrors: "policy",
			wantCounted: []violation{{"ACME003", "warning"}},
		},
		{
			name: "status updates are not evaluated",
			req: func(t *testing.T) admission.Request {
				req := vsRequest(t, admissionv1.Update, "shop", "reviews", virtualService("shop", "reviews", map[string]any{"block": true}, nil), nil)
				req.SubResource = "status"
				return req
			},
			wantAllowed: true, wantCode: http.StatusOK, wantVerdict: verdictAllowed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, m := newTestHandler(t, Config{})
			req := tt.req(t)
			resp := h.Handle(t.Context(), req)
			if err := resp.Complete(req); err != nil {
				t.Fatal(err)
			}
			if resp.Allowed != tt.wantAllowed {
				t.Errorf("allowed = %v, want %v (result %+v)", resp.Allowed, tt.wantAllowed, resp.Result)
			}
			if resp.Result.Code != tt.wantCode || resp.Result.Reason != tt.wantReason {
				t.Errorf("result code %d reason %q, want %d %q", resp.Result.Code, resp.Result.Reason, tt.wantCode, tt.wantReason)
			}
			switch {
			case tt.wantCode == http.StatusInternalServerError || tt.wantCode == http.StatusBadRequest:
				if !strings.Contains(resp.Result.Message, tt.wantMessage) {
					t.Errorf("message %q, want it to contain %q", resp.Result.Message, tt.wantMessage)
				}
			case resp.Result.Message != tt.wantMessage:
				t.Errorf("message:\n%q\nwant:\n%q", resp.Result.Message, tt.wantMessage)
			}
			if !slices.Equal(resp.Warnings, tt.wantWarnings) {
				t.Errorf("warnings %q, want %q", resp.Warnings, tt.wantWarnings)
			}
			kind := policies.Kind{Group: req.Kind.Group, Kind: req.Kind.Kind}.String()
			if got := testutil.ToFloat64(m.AdmissionRequests.WithLabelValues(string(req.Operation), kind, tt.wantVerdict)); got != 1 {
				t.Errorf("admission requests{%s,%s,%s} = %v, want 1", req.Operation, kind, tt.wantVerdict, got)
			}
			if got := testutil.CollectAndCount(m.AdmissionRequests); got != 1 {
				t.Errorf("%d admission request series, want 1", got)
			}
			if got := testutil.CollectAndCount(m.AdmissionLatency); got != 1 {
				t.Errorf("%d latency series, want 1", got)
			}
			if tt.wantErrors != "" {
				if got := testutil.ToFloat64(m.AdmissionErrors.WithLabelValues(tt.wantErrors)); got != 1 {
					t.Errorf("admission errors{%s} = %v, want 1", tt.wantErrors, got)
				}
			} else if got := testutil.CollectAndCount(m.AdmissionErrors); got != 0 {
				t.Errorf("%d admission error series, want none", got)
			}
			want := map[violation]float64{}
			for _, v := range tt.wantCounted {
				want[v]++
			}
			if got := testutil.CollectAndCount(m.Violations); got != len(want) {
				t.Errorf("%d violation series, want %d", got, len(want))
			}
			for v, n := range want {
				if got := testutil.ToFloat64(m.Violations.WithLabelValues(v.policy, v.severity, "admission")); got != n {
					t.Errorf("violations{%s,%s,admission} = %v, want %v", v.policy, v.severity, got, n)
				}
			}
		})
	}
}

// The review Rego sees is the request's: operation, user, dry run, both objects.
func TestReviewFromRequest(t *testing.T) {
	req := vsRequest(t, admissionv1.Update, "shop", "", virtualService("shop", "generated-x1", map[string]any{"weight": 9007199254740993}, nil),
		virtualService("shop", "generated-x1", map[string]any{}, nil))
	dry := true
	req.DryRun = &dry
	req.Options = runtime.RawExtension{Raw: []byte(`{"kind":"UpdateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-patch"}`)}
	r, err := reviewFromRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if r.Group != "networking.istio.io" || r.Version != "v1" || r.Kind != "VirtualService" || r.Resource != "virtualservices" ||
		r.Namespace != "shop" || r.Operation != "UPDATE" || !r.DryRun || r.UID != "uid-1" ||
		r.UserInfo.Username != "alice" || !slices.Equal(r.UserInfo.Groups, []string{"devs"}) {
		t.Errorf("review fields not copied from the request: %+v", r)
	}
	if r.Name != "generated-x1" {
		t.Errorf("name %q, want the object's name when the request has none", r.Name)
	}
	if r.OldObject == nil {
		t.Error("old object missing on UPDATE")
	}
	wantOptions := ast.MustInterfaceToValue(map[string]any{"kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1", "fieldManager": "kubectl-patch"})
	if r.Options == nil || r.Options.Compare(wantOptions) != 0 {
		t.Errorf("options %v, want %v", r.Options, wantOptions)
	}
	// 2^53+1 is not a float64: numbers must stay exact.
	weight, err := r.Object.Find(ast.MustParseRef("x.spec.weight")[1:])
	if err != nil || weight.Compare(ast.Number("9007199254740993")) != 0 {
		t.Errorf("weight decoded as %v, want the exact number", weight)
	}

	for _, raw := range []string{`[1, 2]`, `{"a": 1} {"b": 2}`, `"text"`} {
		bad := req
		bad.Object.Raw = []byte(raw)
		if _, err := reviewFromRequest(bad); err == nil {
			t.Errorf("object %s decoded without error", raw)
		}
		bad = req
		bad.Options.Raw = []byte(raw)
		if _, err := reviewFromRequest(bad); err == nil || !strings.Contains(err.Error(), "decoding the options of VirtualService shop/generated-x1") {
			t.Errorf("options %s: error %v, want one naming the options", raw, err)
		}
	}
	// Requests without options (CONNECT, older apiservers) review with none.
	req.Options = runtime.RawExtension{}
	if r, err := reviewFromRequest(req); err != nil || r.Options != nil {
		t.Errorf("no options: %v, %v; want nil options", r.Options, err)
	}
}

func TestHandleLogs(t *testing.T) {
	tests := []struct {
		name      string
		verbosity int
		spec      map[string]any
		want      []string // substrings of the one request line; empty: no line
	}{
		{"allowed requests log at V(1)", 1, map[string]any{},
			[]string{`"msg"="admission request"`, `"operation"="CREATE"`, `"kind"="VirtualService"`, `"namespace"="shop"`, `"name"="reviews"`, `"verdict"="allowed"`, `"duration"=`}},
		{"allowed requests are quiet at V(0)", 0, map[string]any{}, nil},
		{"denied requests log at V(0) with the message", 0, map[string]any{"block": true},
			[]string{`"msg"="admission request"`, `"verdict"="denied"`, `"message"="ACME002: spec.block is set"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []string
			log := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{Verbosity: tt.verbosity})
			h, _ := newTestHandler(t, Config{Log: log})
			h.Handle(t.Context(), vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", tt.spec, nil), nil))
			if len(tt.want) == 0 {
				if len(lines) != 0 {
					t.Errorf("logged %q, want nothing", lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("logged %q, want one line", lines)
			}
			for _, w := range tt.want {
				if !strings.Contains(lines[0], w) {
					t.Errorf("log line %s\ndoes not contain %s", lines[0], w)
				}
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	engine := testEngine(t)
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"defaults", Config{Engine: engine}, ""},
		{"no engine", Config{}, "no policy engine"},
		{"negative concurrency", Config{Engine: engine, MaxConcurrent: -1}, "MaxConcurrent is -1"},
		{"negative timeout", Config{Engine: engine, Timeout: -1}, "Timeout is -1ns"},
		{"validator without namespace", Config{Engine: engine, PolicyConfigMapValidator: func(context.Context, *corev1.ConfigMap) error { return nil }}, "needs PolicyConfigMapNamespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if h.timeout != DefaultTimeout || cap(h.slots) < 4 {
					t.Errorf("defaults not applied: timeout %s, %d slots", h.timeout, cap(h.slots))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestAllowAll(t *testing.T) {
	req := vsRequest(t, admissionv1.Create, "shop", "reviews", nil, nil)
	req.Object.Raw = []byte("not json")
	if resp := NewAllowAll().Handle(t.Context(), req); !resp.Allowed {
		t.Errorf("allow-all denied: %+v", resp.Result)
	}
}
