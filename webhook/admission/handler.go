// Package admission is the webhook's validating admission handler: it
// evaluates the policy engine on each AdmissionRequest and turns the
// findings into a verdict. deny findings refuse the request (403, every
// message, policy ID first), warn findings become admission warnings that
// kubectl prints, audit findings are allowed and counted.
package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

// DefaultTimeout bounds one evaluation. It stays well under the apiserver's
// default webhook timeout (10s) and the chart's, so the webhook always
// answers before the apiserver gives up on it.
const DefaultTimeout = 3 * time.Second

// Reviewer evaluates policies on a review; *policies.Engine is one. Review
// must return soon after ctx is done (OPA's evaluation does).
type Reviewer interface {
	Review(ctx context.Context, r *policies.Review) ([]policies.Finding, error)
}

// Confirmer makes sure that the inventory a finding rests on is not behind
// the apiserver; *inventory.Inventory is one. Generation numbers the
// inventory in force, read before evaluating. CatchUp compares the kinds
// that the policies ids look up (custom.inventory) with the apiserver,
// brings the inventory up to date when it was behind, and reports whether
// the review is to be evaluated again: the inventory it was evaluated
// against (generation seen) was behind, or has changed since. It returns
// when ctx is done at the latest.
type Confirmer interface {
	Generation() uint64
	CatchUp(ctx context.Context, seen uint64, ids []string) (bool, error)
}

// Config configures a Handler.
type Config struct {
	// Engine evaluates the policies, normally a *policies.Engine. Required.
	Engine Reviewer
	// Confirmer confirms warn and deny findings before they are reported,
	// so that no verdict rests on an object the inventory has not seen yet
	// (a Service created a moment before its VirtualService). Nil reports
	// findings as the engine returns them.
	Confirmer Confirmer
	// Metrics receives the admission metrics. Nil means unregistered metrics
	// that nothing serves (tests and benchmarks).
	Metrics *metrics.Metrics
	// Log receives one line per request at V(1), or at V(0) when denied.
	Log logr.Logger
	// ExcludedNamespaces are never evaluated: objects in them and the
	// Namespace objects of those names are allowed as they are. Callers
	// pass kube-system and the webhook's own namespace.
	ExcludedNamespaces []string
	// MaxConcurrent bounds the evaluations in flight. A request that finds
	// every slot taken waits until its deadline, then is answered with an
	// error. Zero means 4 per CPU.
	MaxConcurrent int
	// Timeout is the deadline of one evaluation, waiting for a slot
	// included. Zero means DefaultTimeout.
	Timeout time.Duration
	// PolicyConfigMapNamespace is where custom policy ConfigMaps live (the
	// webhook's namespace).
	PolicyConfigMapNamespace string
	// PolicyConfigMapValidator checks a custom policy ConfigMap (labelled
	// PolicyLabel=true in PolicyConfigMapNamespace) on CREATE and UPDATE.
	// Its error text is the denial message, so it should name file:line.
	// Nil means policy ConfigMaps are not validated on admission.
	PolicyConfigMapValidator func(context.Context, *corev1.ConfigMap) error
	// Ready reports whether the replica can judge: its first inventory and
	// its custom policies have reached the engine. Until then it answers
	// 500, as its readiness probe fails. Nil is always ready.
	Ready func() bool
}

// Handler is the controller-runtime admission.Handler that enforces the
// policies. It never panics: an object it cannot decode answers 400, an
// internal error 500, and both are counted.
type Handler struct {
	engine          Reviewer
	confirmer       Confirmer
	metrics         *metrics.Metrics
	log             logr.Logger
	excluded        []string
	slots           chan struct{}
	timeout         time.Duration
	policyNamespace string
	validatePolicy  func(context.Context, *corev1.ConfigMap) error
	ready           func() bool
}

var _ admission.Handler = (*Handler)(nil)

// New returns a Handler for cfg, with the defaults filled in.
func New(cfg Config) (*Handler, error) {
	if cfg.Engine == nil {
		return nil, errors.New("creating the admission handler: no policy engine")
	}
	if cfg.MaxConcurrent < 0 {
		return nil, fmt.Errorf("creating the admission handler: MaxConcurrent is %d, want 0 (default) or more", cfg.MaxConcurrent)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("creating the admission handler: Timeout is %s, want 0 (default) or more", cfg.Timeout)
	}
	if cfg.PolicyConfigMapValidator != nil && cfg.PolicyConfigMapNamespace == "" {
		return nil, errors.New("creating the admission handler: a policy ConfigMap validator needs PolicyConfigMapNamespace")
	}
	h := &Handler{
		engine:          cfg.Engine,
		confirmer:       cfg.Confirmer,
		metrics:         cfg.Metrics,
		log:             cfg.Log,
		excluded:        slices.Clone(cfg.ExcludedNamespaces),
		timeout:         cfg.Timeout,
		policyNamespace: cfg.PolicyConfigMapNamespace,
		validatePolicy:  cfg.PolicyConfigMapValidator,
		ready:           cfg.Ready,
	}
	if h.metrics == nil {
		h.metrics = metrics.New()
	}
	if h.timeout == 0 {
		h.timeout = DefaultTimeout
	}
	maxConcurrent := cfg.MaxConcurrent
	if maxConcurrent == 0 {
		maxConcurrent = 4 * runtime.GOMAXPROCS(0)
	}
	h.slots = make(chan struct{}, maxConcurrent)
	return h, nil
}

// outcome is what handling one request decided, for the response, the
// metrics and the log line.
type outcome struct {
	resp    admission.Response
	verdict string // allowed, denied, warned or error
	name    string // the object's name, also when the request has none (generateName)
	reason  string // why an error verdict, the AdmissionErrors label
	err     error  // the cause of an error verdict
}

const (
	verdictAllowed = "allowed"
	verdictDenied  = "denied"
	verdictWarned  = "warned"
	verdictError   = "error"
)

// Handle reviews one AdmissionRequest.
func (h *Handler) Handle(ctx context.Context, req admission.Request) (resp admission.Response) {
	start := time.Now()
	out := outcome{name: req.Name}
	defer func() {
		if r := recover(); r != nil {
			out = h.errored("panic", fmt.Errorf("panic while reviewing the request: %v", r))
			out.name = req.Name
			h.log.Error(out.err, "recovered from a panic", "stack", string(debug.Stack()))
		}
		h.record(req, out, time.Since(start))
		resp = out.resp
	}()
	out = h.handle(ctx, req)
	if out.name == "" {
		out.name = req.Name
	}
	return out.resp
}

func (h *Handler) handle(ctx context.Context, req admission.Request) outcome {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()

	if h.isPolicyConfigMap(req) {
		if out, done := h.checkPolicyConfigMap(ctx, req); done {
			return out
		}
	}
	// Status and other subresources cannot change what the policies read.
	if req.SubResource != "" || h.isExcluded(req) {
		return outcome{resp: admission.Allowed(""), verdict: verdictAllowed}
	}
	// A process that restarts binds its port before its readiness probe
	// fails and its endpoint leaves: the apiserver may call it then, and a
	// verdict without the inventory or the custom policies would be wrong.
	if h.ready != nil && !h.ready() {
		return h.errored("not-synced", errors.New("this replica has not loaded its inventory and custom policies yet (its readiness probe fails until it has); retry"))
	}

	release, err := h.acquire(ctx)
	if err != nil {
		return h.errored("overloaded", err)
	}
	defer release()

	review, err := reviewFromRequest(req)
	if err != nil {
		return h.undecodable(err)
	}
	var generation uint64
	if h.confirmer != nil {
		generation = h.confirmer.Generation()
	}
	findings, err := h.engine.Review(ctx, review)
	if ids := enforced(findings); len(ids) > 0 && h.confirmer != nil && ctx.Err() == nil {
		findings, err = h.confirm(ctx, review, generation, ids, findings, err)
	}
	var failed failures
	if err != nil {
		if ctx.Err() != nil {
			return h.errored("timeout", fmt.Errorf("reviewing %s: no verdict within %s: %w", describe(review), h.timeout, err))
		}
		var unexpected error
		failed, unexpected = policyFailures(err)
		if unexpected != nil {
			return h.errored("review", fmt.Errorf("reviewing %s: %w", describe(review), unexpected))
		}
		for _, id := range failed.cut {
			h.metrics.PolicyTimeouts.WithLabelValues(id, "admission").Inc()
		}
		if len(failed.failed) > 0 {
			h.metrics.AdmissionErrors.WithLabelValues("policy").Inc()
		}
		h.log.Error(err, "policies failed or ran past their deadline; the verdict rests on the others", "object", describe(review), "failed", failed.failed, "cutOff", failed.cut)
	}
	for _, f := range findings {
		h.metrics.Violations.WithLabelValues(f.PolicyID, f.Severity.String(), "admission").Inc()
		if f.Enforcement == policies.EnforcementAudit {
			h.log.V(1).Info("audit finding", "policy", f.PolicyID, "severity", f.Severity.String(), "object", f.Resource.String(), "message", f.Message)
		}
	}
	out := verdictFor(findings, failed)
	out.name = review.Name
	return out
}

// enforced are the policies of the findings that change the verdict (deny
// and warn), in order, without duplicates.
func enforced(findings []policies.Finding) []string {
	var ids []string
	for _, f := range findings {
		if f.Enforcement != policies.EnforcementAudit && !slices.Contains(ids, f.PolicyID) {
			ids = append(ids, f.PolicyID)
		}
	}
	return ids
}

// confirm evaluates the review again when the inventory it was evaluated
// against (generation) turns out to have been behind the apiserver for
// what the policies ids look up. Confirming gets half the time left, so
// that evaluating again fits in the deadline; when it fails the first
// verdict stands.
func (h *Handler) confirm(ctx context.Context, review *policies.Review, generation uint64, ids []string, findings []policies.Finding, err error) ([]policies.Finding, error) {
	cctx, cancel := context.WithCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		cctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(deadline)/2))
	}
	behind, cerr := h.confirmer.CatchUp(cctx, generation, ids)
	cancel()
	switch {
	case cerr != nil:
		h.metrics.AdmissionConfirmations.WithLabelValues("failed").Inc()
		h.log.Error(cerr, "could not confirm findings against the apiserver; reporting them as found", "object", describe(review), "policies", ids)
		return findings, err
	case !behind:
		h.metrics.AdmissionConfirmations.WithLabelValues("current").Inc()
		return findings, err
	}
	h.metrics.AdmissionConfirmations.WithLabelValues("caught-up").Inc()
	h.log.V(1).Info("the inventory was behind the apiserver; evaluated again", "object", describe(review), "policies", ids)
	return h.engine.Review(ctx, review)
}

// acquire takes an evaluation slot, waiting until ctx is done at most.
func (h *Handler) acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-h.slots }
	select {
	case h.slots <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case h.slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("the webhook is overloaded: all %d evaluation slots stayed busy until the deadline (%s); retry", cap(h.slots), h.timeout)
	}
}

func (h *Handler) isExcluded(req admission.Request) bool {
	if req.Namespace != "" {
		return slices.Contains(h.excluded, req.Namespace)
	}
	return req.Kind.Group == "" && req.Kind.Kind == "Namespace" && slices.Contains(h.excluded, req.Name)
}

// errored answers 500: the request could not be reviewed.
func (h *Handler) errored(reason string, err error) outcome {
	return outcome{resp: admission.Errored(http.StatusInternalServerError, err), verdict: verdictError, reason: reason, err: err}
}

// undecodable answers 400: what the request carries is not an object. The
// fault is the request's, not the webhook's.
func (h *Handler) undecodable(err error) outcome {
	return outcome{resp: admission.Errored(http.StatusBadRequest, err), verdict: verdictError, reason: "decode", err: err}
}

// record counts the request and logs it: at V(1), or always when it was
// denied or failed.
func (h *Handler) record(req admission.Request, out outcome, took time.Duration) {
	operation := string(req.Operation)
	kind := policies.Kind{Group: req.Kind.Group, Kind: req.Kind.Kind}.String()
	h.metrics.AdmissionRequests.WithLabelValues(operation, kind, out.verdict).Inc()
	h.metrics.AdmissionLatency.WithLabelValues(operation).Observe(took.Seconds())
	if out.verdict == verdictError {
		h.metrics.AdmissionErrors.WithLabelValues(out.reason).Inc()
	}

	kv := []any{
		"uid", req.UID,
		"operation", operation,
		"group", req.Kind.Group,
		"kind", req.Kind.Kind,
		"namespace", req.Namespace,
		"name", out.name,
		"user", req.UserInfo.Username,
		"dryRun", req.DryRun != nil && *req.DryRun,
		"verdict", out.verdict,
		"duration", took.String(),
	}
	switch out.verdict {
	case verdictError:
		h.log.Error(out.err, "admission request", append(kv, "reason", out.reason)...)
	case verdictDenied:
		h.log.Info("admission request", append(kv, "message", out.resp.Result.Message)...)
	default:
		if len(out.resp.Warnings) > 0 {
			kv = append(kv, "warnings", out.resp.Warnings)
		}
		h.log.V(1).Info("admission request", kv...)
	}
}
