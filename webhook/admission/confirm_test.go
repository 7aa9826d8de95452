package admission

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// fakeConfirmer records what it was asked to confirm.
type fakeConfirmer struct {
	generation uint64
	again      bool
	err        error
	calls      [][]string
	seen       []uint64
	deadline   time.Duration // left on the context CatchUp got
}

func (c *fakeConfirmer) Generation() uint64 { return c.generation }

func (c *fakeConfirmer) CatchUp(ctx context.Context, seen uint64, ids []string) (bool, error) {
	c.calls = append(c.calls, ids)
	c.seen = append(c.seen, seen)
	if d, ok := ctx.Deadline(); ok {
		c.deadline = time.Until(d)
	}
	return c.again, c.err
}

// Only findings that change the verdict are confirmed, each policy once,
// and the verdict comes from the second evaluation when the inventory was
// behind; when confirming fails, the first verdict stands.
func TestHandleConfirmsFindings(t *testing.T) {
	finding := func(id string, e policies.Enforcement) policies.Finding {
		return policies.Finding{PolicyID: id, Enforcement: e, Message: "subset v2 is defined by no DestinationRule"}
	}
	tests := []struct {
		name      string
		first     []policies.Finding
		confirmer fakeConfirmer
		wantCalls [][]string
		wantWarns int
		wantEvals int
		wantCount string
	}{
		{name: "no finding: not confirmed", wantEvals: 1},
		{name: "audit findings: not confirmed", first: []policies.Finding{finding("MESH1113", policies.EnforcementAudit)}, wantEvals: 1},
		{
			name:      "inventory current: the warnings stand",
			first:     []policies.Finding{finding("MESH1102", policies.EnforcementWarn), finding("MESH1102", policies.EnforcementWarn), finding("MESH1113", policies.EnforcementAudit)},
			confirmer: fakeConfirmer{generation: 7},
			wantCalls: [][]string{{"MESH1102"}}, wantWarns: 1, wantEvals: 1, wantCount: "current",
		},
		{
			name:      "inventory behind: evaluated again, the second verdict answers",
			first:     []policies.Finding{finding("MESH1101", policies.EnforcementDeny), finding("MESH1102", policies.EnforcementWarn)},
			confirmer: fakeConfirmer{generation: 7, again: true},
			wantCalls: [][]string{{"MESH1101", "MESH1102"}}, wantEvals: 2, wantCount: "caught-up",
		},
		{
			name:      "confirming fails: the first verdict stands",
			first:     []policies.Finding{finding("MESH1102", policies.EnforcementWarn)},
			confirmer: fakeConfirmer{generation: 7, err: errors.New("connection refused")},
			wantCalls: [][]string{{"MESH1102"}}, wantWarns: 1, wantEvals: 1, wantCount: "failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evals := 0
			engine := reviewerFunc(func(context.Context, *policies.Review) ([]policies.Finding, error) {
				evals++
				if evals == 1 {
					return tt.first, nil
				}
				return nil, nil
			})
			c := tt.confirmer
			const timeout = 2 * time.Second
			h, m := newTestHandler(t, Config{Engine: engine, Confirmer: &c, Timeout: timeout})
			req := vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{}, nil), nil)
			resp := h.Handle(t.Context(), req)
			if !resp.Allowed || len(resp.Warnings) != tt.wantWarns {
				t.Errorf("allowed %v, warnings %q; want allowed with %d warnings", resp.Allowed, resp.Warnings, tt.wantWarns)
			}
			if evals != tt.wantEvals {
				t.Errorf("%d evaluations, want %d", evals, tt.wantEvals)
			}
			if len(c.calls) != len(tt.wantCalls) || (len(c.calls) > 0 && !slices.Equal(c.calls[0], tt.wantCalls[0])) {
				t.Errorf("confirmed %v, want %v", c.calls, tt.wantCalls)
			}
			if len(c.calls) > 0 {
				if c.seen[0] != c.generation {
					t.Errorf("confirmed against generation %d, want %d, read before evaluating", c.seen[0], c.generation)
				}
				if c.deadline > timeout/2 || c.deadline < timeout/4 {
					t.Errorf("confirming had %s of a %s deadline, want half", c.deadline, timeout)
				}
			}
			for _, result := range []string{"current", "caught-up", "failed"} {
				want := 0.0
				if result == tt.wantCount {
					want = 1
				}
				if got := testutil.ToFloat64(m.AdmissionConfirmations.WithLabelValues(result)); got != want {
					t.Errorf("confirmations{%s} = %v, want %v", result, got, want)
				}
			}
		})
	}
}

// A replica that has not loaded its inventory and custom policies gives
// no verdict: lookups would find nothing and custom deny policies would be
// missing. It answers 500 (the apiserver then applies the failure policy)
// without evaluating.
func TestHandleRefusesBeforeReady(t *testing.T) {
	evals := 0
	engine := reviewerFunc(func(context.Context, *policies.Review) ([]policies.Finding, error) {
		evals++
		return nil, nil
	})
	ready := false
	h, m := newTestHandler(t, Config{Engine: engine, Confirmer: &fakeConfirmer{}, Timeout: time.Second, Ready: func() bool { return ready }})
	req := vsRequest(t, admissionv1.Create, "shop", "reviews", virtualService("shop", "reviews", map[string]any{}, nil), nil)
	resp := h.Handle(t.Context(), req)
	if resp.Allowed || resp.Result.Code != http.StatusInternalServerError || !strings.Contains(resp.Result.Message, "has not loaded its inventory and custom policies yet") {
		t.Errorf("answer %+v, want a 500 saying the replica is not ready", resp.Result)
	}
	if evals != 0 {
		t.Errorf("%d evaluations, want none", evals)
	}
	if got := testutil.ToFloat64(m.AdmissionErrors.WithLabelValues("not-synced")); got != 1 {
		t.Errorf("errors{not-synced} = %v, want 1", got)
	}
	ready = true
	if resp := h.Handle(t.Context(), req); !resp.Allowed {
		t.Errorf("once synced: %+v, want allowed", resp.Result)
	}
}
