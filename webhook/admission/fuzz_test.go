package admission

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
