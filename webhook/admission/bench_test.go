package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// benchVirtualService is a VirtualService of a busy service: nine header
// and path routes splitting traffic between subsets, with timeouts,
// retries and header rewrites. Its AdmissionReview is about 5 KB.
func benchVirtualService() map[string]any {
	var routes []any
	for i := range 9 {
		routes = append(routes, map[string]any{
			"name": fmt.Sprintf("route-%d", i),
			"match": []any{
				map[string]any{"headers": map[string]any{"end-user": map[string]any{"exact": fmt.Sprintf("tester-%d", i)}}, "uri": map[string]any{"prefix": fmt.Sprintf("/api/v%d/reviews", i)}},
			},
			"route": []any{
				map[string]any{"destination": map[string]any{"host": "reviews", "subset": "v1", "port": map[string]any{"number": 9080}}, "weight": 90},
				map[string]any{"destination": map[string]any{"host": "reviews", "subset": "v2", "port": map[string]any{"number": 9080}}, "weight": 10},
			},
			"timeout": "5s",
			"retries": map[string]any{"attempts": 3, "perTryTimeout": "1s", "retryOn": "gateway-error,connect-failure,refused-stream"},
			"headers": map[string]any{"request": map[string]any{"set": map[string]any{"x-route": fmt.Sprintf("route-%d", i)}}},
		})
	}
	return map[string]any{
		"apiVersion": "networking.istio.io/v1",
		"kind":       "VirtualService",
		"metadata": map[string]any{
			"name": "reviews", "namespace": "shop", "uid": "6a1f2c3e-8d4b-4f7a-9c2e-1b3d5f7a9c0e", "generation": 3,
			"labels":      map[string]any{"app": "reviews", "team": "bookinfo"},
			"annotations": map[string]any{"owner": "bookinfo-team@example.com"},
		},
		"spec": map[string]any{
			"hosts": []any{"reviews"},
			"http":  routes,
		},
	}
}

func benchInventory() *policies.Inventory {
	inv := policies.NewInventory()
	for i := range 50 {
		inv.Add(map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": fmt.Sprintf("svc-%d", i), "namespace": "shop"},
			"spec":     map[string]any{"selector": map[string]any{"app": fmt.Sprintf("svc-%d", i)}, "ports": []any{map[string]any{"name": "http", "port": 8080}}}})
	}
	inv.Add(map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop"},
		"spec":     map[string]any{"selector": map[string]any{"app": "reviews"}, "ports": []any{map[string]any{"name": "http", "port": 9080}}}})
	inv.Add(map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop"},
		"spec": map[string]any{"host": "reviews", "subsets": []any{
			map[string]any{"name": "v1", "labels": map[string]any{"version": "v1"}},
			map[string]any{"name": "v2", "labels": map[string]any{"version": "v2"}},
		}}})
	return inv
}

// benchAdmissionReview is the body the apiserver sends for an UPDATE of
// the VirtualService.
func benchAdmissionReview(tb testing.TB) []byte {
	tb.Helper()
	obj, err := json.Marshal(benchVirtualService())
	if err != nil {
		tb.Fatal(err)
	}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       "705ab4f5-6393-11e8-b7cc-42010a800002",
			Kind:      metav1.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"},
			Resource:  metav1.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"},
			Name:      "reviews",
			Namespace: "shop",
			Operation: admissionv1.Create,
			UserInfo:  authenticationv1.UserInfo{Username: "alice@example.com", Groups: []string{"system:authenticated", "bookinfo-devs"}},
			Object:    runtime.RawExtension{Raw: obj},
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

func benchEngine(tb testing.TB) *policies.Engine {
	tb.Helper()
	ctx := context.Background()
	engine, err := policies.New(ctx, policies.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := engine.SetInventory(ctx, benchInventory()); err != nil {
		tb.Fatal(err)
	}
	return engine
}

// benchConfirmer stands for the inventory, as the webhook configures it.
// The benchmark's object draws no finding: a review without findings is
// never confirmed, and costs no read of the apiserver.
type benchConfirmer struct{ tb testing.TB }

func (benchConfirmer) Generation() uint64 { return 1 }

func (c benchConfirmer) CatchUp(context.Context, uint64, []string) (bool, error) {
	c.tb.Error("a review without findings was confirmed")
	return false, nil
}

func benchHandlers(tb testing.TB, engine *policies.Engine) map[string]admission.Handler {
	tb.Helper()
	h, err := New(Config{Engine: engine, Confirmer: benchConfirmer{tb}, ExcludedNamespaces: []string{"kube-system", "mesh-system"}})
	if err != nil {
		tb.Fatal(err)
	}
	return map[string]admission.Handler{"policies": h, "allow-all": NewAllowAll()}
}

// The benchmark's object is the size the issue sets, and the full library
// reviews it cleanly, as most objects in a cluster are.
func TestBenchmarkObject(t *testing.T) {
	body := benchAdmissionReview(t)
	if n := len(body); n < 4500 || n > 5500 {
		t.Errorf("AdmissionReview of %d bytes, want about 5 KB", n)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		t.Fatal(err)
	}
	resp := benchHandlers(t, benchEngine(t))["policies"].Handle(t.Context(), admission.Request{AdmissionRequest: *review.Request})
	if !resp.Allowed || len(resp.Warnings) != 0 {
		t.Errorf("the benchmark object is not clean: %+v, warnings %q", resp.Result, resp.Warnings)
	}
}

// BenchmarkHandle is the handler's cost per review with the full library
// (decoding, routing, evaluation, verdict, metrics) against the allow-all
// handler, and against Engine.Review alone on the decoded object: the
// difference is what the handler adds to the engine.
func BenchmarkHandle(b *testing.B) {
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(benchAdmissionReview(b), &review); err != nil {
		b.Fatal(err)
	}
	req := admission.Request{AdmissionRequest: *review.Request}
	engine := benchEngine(b)
	handlers := benchHandlers(b, engine)
	b.Run("engine-review-only", func(b *testing.B) {
		decoded, err := reviewFromRequest(req)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		for b.Loop() {
			if _, err := engine.Review(ctx, decoded); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, name := range []string{"policies", "allow-all"} {
		b.Run(name, func(b *testing.B) {
			h := handlers[name]
			ctx := context.Background()
			cpu := cpuTime()
			for b.Loop() {
				if resp := h.Handle(ctx, req); !resp.Allowed {
					b.Fatalf("denied: %+v", resp.Result)
				}
			}
			// CPU time, GC included: steadier than wall time on a shared machine.
			b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N)/1e3, "op-cpu-us")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServeHTTP adds what controller-runtime's webhook does around
// the handler (AdmissionReview decoding and encoding), without the network.
func BenchmarkServeHTTP(b *testing.B) {
	body := benchAdmissionReview(b)
	handlers := benchHandlers(b, benchEngine(b))
	for _, name := range []string{"policies", "allow-all"} {
		b.Run(name, func(b *testing.B) {
			wh := &admission.Webhook{
				Handler:        handlers[name],
				LogConstructor: func(logr.Logger, *admission.Request) logr.Logger { return logr.Discard() },
			}
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				wh.ServeHTTP(rec, req)
				if !bytes.Contains(rec.Body.Bytes(), []byte(`"allowed":true`)) {
					b.Fatalf("not allowed: %s", rec.Body.String())
				}
			}
		})
	}
}
