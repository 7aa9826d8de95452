package admission

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

type reviewerFunc func(context.Context, *policies.Review) ([]policies.Finding, error)

func (f reviewerFunc) Review(ctx context.Context, r *policies.Review) ([]policies.Finding, error) {
	return f(ctx, r)
}

func TestPanicAnswers500AndTheHandlerGoesOn(t *testing.T) {
	var calls atomic.Int32
	panicky := reviewerFunc(func(context.Context, *policies.Review) ([]policies.Finding, error) {
		if calls.Add(1) == 1 {
			panic("policy engine bug")
		}
		return nil, nil
	})
	h, m := newTestHandler(t, Config{Engine: panicky, MaxConcurrent: 1})
	req := vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{}, nil), nil)

	resp := h.Handle(t.Context(), req)
	if resp.Allowed || resp.Result == nil || resp.Result.Code != http.StatusInternalServerError || !strings.Contains(resp.Result.Message, "policy engine bug") {
		t.Fatalf("after a panic: %+v, want a 500 naming it", resp.Result)
	}
	if got := testutil.ToFloat64(m.AdmissionErrors.WithLabelValues("panic")); got != 1 {
		t.Errorf("admission errors{panic} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.AdmissionRequests.WithLabelValues("CREATE", "networking.istio.io/VirtualService", verdictError)); got != 1 {
		t.Errorf("admission requests{error} = %v, want 1", got)
	}
	// The panic released its slot: with one slot, the next request is reviewed.
	if resp := h.Handle(t.Context(), req); !resp.Allowed {
		t.Errorf("the request after the panic: %+v, want allowed", resp.Result)
	}
}

// A full handler makes the next request wait for a slot until its deadline
// and then answers an error; it never calls the engine for it, and the
// requests holding the slots finish normally.
func TestConcurrencyIsBounded(t *testing.T) {
	const slots = 2
	entered := make(chan struct{}, slots+1)
	release := make(chan struct{})
	var inFlight, maxInFlight atomic.Int32
	blocking := reviewerFunc(func(ctx context.Context, r *policies.Review) ([]policies.Finding, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		entered <- struct{}{}
		select {
		case <-release:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	// The handler's own deadline is long: the blocked requests must finish
	// because they are released, not because they time out.
	h, m := newTestHandler(t, Config{Engine: blocking, MaxConcurrent: slots, Timeout: time.Minute})
	req := vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{}, nil), nil)

	var wg sync.WaitGroup
	holders := make([]admission.Response, slots)
	for i := range slots {
		wg.Go(func() { holders[i] = h.Handle(t.Context(), req) })
	}
	for range slots {
		<-entered
	}

	// The request's own deadline is short: it stands for the apiserver's.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	resp := h.Handle(ctx, req)
	if resp.Allowed || resp.Result.Code != http.StatusInternalServerError || !strings.Contains(resp.Result.Message, "overloaded") {
		t.Errorf("request beyond the bound: %+v, want a 500 saying the webhook is overloaded", resp.Result)
	}
	if got := testutil.ToFloat64(m.AdmissionErrors.WithLabelValues("overloaded")); got != 1 {
		t.Errorf("admission errors{overloaded} = %v, want 1", got)
	}

	close(release)
	wg.Wait()
	for i, r := range holders {
		if !r.Allowed {
			t.Errorf("request %d holding a slot: %+v, want allowed", i, r.Result)
		}
	}
	if got := maxInFlight.Load(); got != slots {
		t.Errorf("%d reviews ran at once, want %d", got, slots)
	}
	if got := len(entered); got != 0 {
		t.Errorf("the engine was called %d more times, want only for the requests that got a slot", got)
	}
	// The slots are free again.
	if resp := h.Handle(t.Context(), req); !resp.Allowed {
		t.Errorf("request after the release: %+v, want allowed", resp.Result)
	}
}

// An evaluation that outlives its deadline answers 500 instead of leaving
// the apiserver waiting: the handler's deadline is shorter than the webhook's.
func TestEvaluationDeadline(t *testing.T) {
	var sawDeadline atomic.Bool
	slow := reviewerFunc(func(ctx context.Context, r *policies.Review) ([]policies.Finding, error) {
		_, ok := ctx.Deadline()
		sawDeadline.Store(ok)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	h, m := newTestHandler(t, Config{Engine: slow, Timeout: 50 * time.Millisecond})
	req := vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{}, nil), nil)
	resp := h.Handle(t.Context(), req)
	if resp.Allowed || resp.Result.Code != http.StatusInternalServerError || !strings.Contains(resp.Result.Message, "no verdict within 50ms") {
		t.Errorf("slow review: %+v, want a 500 naming the deadline", resp.Result)
	}
	if !sawDeadline.Load() {
		t.Error("the engine's context carried no deadline")
	}
	if got := testutil.ToFloat64(m.AdmissionErrors.WithLabelValues("timeout")); got != 1 {
		t.Errorf("admission errors{timeout} = %v, want 1", got)
	}
}

// An error that is not a policy's run-time error is unexpected: 500.
func TestUnexpectedEngineError(t *testing.T) {
	broken := reviewerFunc(func(context.Context, *policies.Review) ([]policies.Finding, error) {
		return nil, errors.New("building the input of VirtualService shop/reviews: unsupported type")
	})
	h, m := newTestHandler(t, Config{Engine: broken})
	resp := h.Handle(t.Context(), vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{}, nil), nil))
	if resp.Allowed || resp.Result.Code != http.StatusInternalServerError || !strings.Contains(resp.Result.Message, "building the input") {
		t.Errorf("engine error: %+v, want a 500 with the error", resp.Result)
	}
	if got := testutil.ToFloat64(m.AdmissionErrors.WithLabelValues("review")); got != 1 {
		t.Errorf("admission errors{review} = %v, want 1", got)
	}
}

// A custom policy that runs too long is cut off at the per-policy deadline,
// named in a warning and counted, while the other policies decide: the
// request is still denied by the deny policy it breaks.
func TestPolicyDeadlineWarnsAndTheOthersDecide(t *testing.T) {
	slow := testPolicy("configmap/acme/slow.rego", "acme.slow", "#   id: ACME900\n#   severity: error\n#   enforcement: deny\n#   kinds: [networking.istio.io/VirtualService]",
		`violation contains {"msg": sprintf("counted %d", [n])} if {
	n := count([1 | some i in numbers.range(1, 5000); some j in numbers.range(1, 5000); i != j])
	n > 0
}
`)
	engine, err := policies.New(t.Context(), policies.Options{Library: []policies.Source{}, Custom: append(testPolicies(), slow), PolicyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h, m := newTestHandler(t, Config{Engine: engine, Timeout: 10 * time.Second})
	for range 2 {
		resp := h.Handle(t.Context(), vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{"block": true, "warn": []any{"x"}}, nil), nil))
		if resp.Allowed || resp.Result.Code != http.StatusForbidden || resp.Result.Message != "ACME002: spec.block is set" {
			t.Errorf("response %+v, want ACME002's denial", resp.Result)
		}
		want := []string{"ACME003: spec.warn names x", "policies ACME900 ran past their deadline (50ms) and were not enforced"}
		if !slices.Equal(resp.Warnings, want) {
			t.Errorf("warnings %q, want %q", resp.Warnings, want)
		}
	}
	if got := testutil.ToFloat64(m.PolicyTimeouts.WithLabelValues("ACME900", "admission")); got != 2 {
		t.Errorf("policy timeouts{ACME900} = %v, want 2", got)
	}
	if got := testutil.CollectAndCount(m.AdmissionErrors); got != 0 {
		t.Errorf("admission errors counted %d series, want none: a policy cut off is not an internal error", got)
	}
}
