package admission

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

var reviewType = metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}

// FuzzServeHTTP sends any body through the handler as the webhook serves
// it (controller-runtime's AdmissionReview decoding, panics recovered) and
// holds what the apiserver relies on: the answer is always a well-formed
// AdmissionReview; a request that decodes gets its UID back; what cannot
// be decoded is a 400-class answer; no answer is a 500 or carries a stack.
func FuzzServeHTTP(f *testing.F) {
	seeds := []admission.Request{
		vsRequest(f, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{"hosts": []any{"reviews"}}, nil), nil),
		vsRequest(f, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{"deny": []any{"a"}, "warn": []any{"b"}, "conflict": true}, nil), nil),
		vsRequest(f, admissionv1.Delete, "shop", "reviews", nil, virtualService("shop", "reviews", nil, map[string]any{"protected": "true"})),
		namespaceRequest(f, "fresh"),
		configMapRequest(f, admissionv1.Create, "mesh-system", "acme", map[string]string{PolicyLabel: "true"}, map[string]string{"p.rego": "package x\n"}),
	}
	for _, req := range seeds {
		body, err := json.Marshal(admissionv1.AdmissionReview{TypeMeta: reviewType, Request: &req.AdmissionRequest})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"VirtualService"},"object":{"metadata":`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"networking.istio.io","kind":"VirtualService"},"operation":"CREATE","object":[1]}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u2"}}`))
	f.Add([]byte(`null`))

	engine := testEngine(f)
	h, _ := newTestHandler(f, Config{Engine: engine, PolicyConfigMapNamespace: "mesh-system", PolicyConfigMapValidator: configMapValidator(engine, new(atomic.Int32))})
	wh := &admission.Webhook{Handler: h, RecoverPanic: ptr.To(true),
		LogConstructor: func(logr.Logger, *admission.Request) logr.Logger { return logr.Discard() }}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		wh.ServeHTTP(rec, req)

		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d: the apiserver reads only 200 answers", rec.Code)
		}
		var answer admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || answer.Response == nil {
			t.Fatalf("the answer is no AdmissionReview with a response (%v): %s", err, rec.Body.Bytes())
		}
		resp := answer.Response
		var sent admissionv1.AdmissionReview
		decoded := json.Unmarshal(body, &sent) == nil && sent.Request != nil
		if decoded && resp.UID != sent.Request.UID && (resp.Result == nil || resp.Result.Code != http.StatusBadRequest) {
			t.Errorf("UID %q, want the request's %q", resp.UID, sent.Request.UID)
		}
		if resp.Result == nil || resp.Allowed {
			return
		}
		code := resp.Result.Code
		switch {
		case code == http.StatusForbidden && strings.Contains(resp.Result.Message, ": "):
			// denied by policies, each message after its policy ID
		case code >= 400 && code < 500:
			// the request's fault: undecodable, or a policy ConfigMap refused
		default:
			t.Errorf("answered %d %q: want 403 with policy messages or 4xx", code, resp.Result.Message)
		}
		if strings.Contains(resp.Result.Message, "goroutine ") || strings.Contains(resp.Result.Message, ".go:") {
			t.Errorf("the answer carries a stack: %q", resp.Result.Message)
		}
	})
}

// FuzzHandleObject reviews any object with the whole policy library, as
// the request's object of its own kind: the answer carries the request's
// UID; an object that is not a JSON object is a 400 naming it; any other
// is allowed or denied by policies, never a 500; and no library policy
// fails at run time on it.
func FuzzHandleObject(f *testing.F) {
	files, err := filepath.Glob("../../policies/*/*/testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		objects, errs := manifest.ReadPaths([]string{file}, false, nil)
		if len(errs) > 0 {
			continue
		}
		for _, o := range objects {
			data, err := json.Marshal(o.Content)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(`{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "spec": {"http": [{"route": "x"}]}}`))
	f.Add([]byte(`[]`))
	engine := benchEngine(f)
	h, _ := newTestHandler(f, Config{Engine: engine})
	f.Fuzz(func(t *testing.T, data []byte) {
		group, version, kind := "networking.istio.io", "v1", "VirtualService"
		var head struct{ APIVersion, Kind string }
		if json.Unmarshal(data, &head) == nil && head.Kind != "" {
			kind = head.Kind
			group, version, _ = strings.Cut(head.APIVersion, "/")
			if version == "" {
				group, version = "", group
			}
		}
		req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID:       "fuzz-uid",
			Kind:      metav1.GroupVersionKind{Group: group, Version: version, Kind: kind},
			Namespace: "shop", Name: "fuzzed", Operation: admissionv1.Create,
			Object: runtime.RawExtension{Raw: data},
		}}
		resp := h.Handle(t.Context(), req)
		if err := resp.Complete(req); err != nil {
			t.Fatal(err)
		}
		if resp.UID != req.UID {
			t.Errorf("UID %q, want the request's", resp.UID)
		}
		_, perr := policies.ParseJSONObject(bytes.TrimSpace(data))
		undecodable := perr != nil && len(bytes.TrimSpace(data)) > 0 && string(bytes.TrimSpace(data)) != "null"
		switch code := resp.Result.Code; {
		case undecodable && code != http.StatusBadRequest:
			t.Errorf("an object that is no JSON object (%v) answered %d, want 400", perr, code)
		case !undecodable && code != http.StatusOK && code != http.StatusForbidden:
			t.Errorf("answered %d %q, want allowed or denied", code, resp.Result.Message)
		}
		for _, w := range resp.Warnings {
			if strings.Contains(w, "failed at run time") {
				t.Errorf("%s (object %s)", w, data)
			}
		}
	})
}
