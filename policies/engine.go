package policies

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Options configure an Engine.
type Options struct {
	// Library replaces the embedded policy library (tests and benchmarks).
	// Nil means Library().
	Library []Source
	// Custom are extra policies, validated like the library's.
	Custom []Source
	// Enforcement overrides a policy's enforcement by ID, for example deny to warn.
	Enforcement map[string]Enforcement
	// Only, when set, names (by ID or alias) the policies to compile and
	// evaluate; the others cost nothing. One naming no policy is an
	// *UnknownPolicyError.
	Only []string
	// Kinds, when set, is called once the sources are parsed and
	// validated, and returns the kinds of the objects there are to review
	// (check -f: the kinds in its files). Only the policies that review one
	// of them are compiled, with the helpers they use: the others could
	// find nothing. Policies still lists every policy. Compiling waits for
	// Kinds, parsing does not.
	Kinds func() []Kind
	// PolicyTimeout, when positive, cuts off the evaluation of one policy
	// on one review (a large comprehension or walk in a custom policy): the
	// policy fails with a *DeadlineError and the others still decide.
	// Zero leaves only the caller's context.
	PolicyTimeout time.Duration
}

// Engine evaluates policies. Policies are compiled once; the request path
// only evaluates prepared queries. Custom policies can be swapped in at any
// time without disturbing evaluations in flight.
type Engine struct {
	store     storage.Store
	library   []Source
	only      []string
	kinds     func() []Kind
	overrides map[string]Enforcement
	timeout   time.Duration
	set       atomic.Pointer[Set]
	values    valueCache
	// inventoryMu serialises inventory writes; index is the inventory in
	// force with its index, which UpdateInventory changes.
	inventoryMu sync.Mutex
	index       *indexState
	// noPrefilter evaluates policies whatever custom.requires says: the
	// equivalence test compares both.
	noPrefilter bool
	// tracer, when set, traces every evaluation: OPA's profiler sees the
	// library as a review runs it (BenchmarkReviewProfile).
	tracer topdown.QueryTracer
}

// New compiles the library and the custom policies. Any invalid policy fails
// the whole load, with every error's file:line.
func New(ctx context.Context, opts Options) (*Engine, error) {
	library := opts.Library
	if library == nil {
		var err error
		if library, err = Library(); err != nil {
			return nil, err
		}
	}
	e := &Engine{
		// AST values on read: evaluations use the inventory without converting it.
		store:     inmem.NewWithOpts(inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true)),
		library:   library,
		only:      opts.Only,
		overrides: opts.Enforcement,
		timeout:   opts.PolicyTimeout,
	}
	if opts.PolicyTimeout < 0 {
		return nil, fmt.Errorf("creating the policy engine: PolicyTimeout is %s, want 0 (none) or more", opts.PolicyTimeout)
	}
	if opts.Kinds != nil {
		// Called once, then let go (sync.OnceValue drops it): check's
		// holds every object it has read, which must not live as long as
		// the engine.
		e.kinds = sync.OnceValue(opts.Kinds)
	}
	if err := e.LoadCustom(ctx, opts.Custom); err != nil {
		return nil, err
	}
	if err := e.SetInventory(ctx, NewInventory()); err != nil {
		return nil, err
	}
	return e, nil
}

// LoadCustom compiles the library with a new set of custom policies and
// swaps it in. On error the set in force stays as it was.
func (e *Engine) LoadCustom(ctx context.Context, custom []Source) error {
	set, err := compileSet(ctx, e.store, e.library, custom, e.only, e.kinds)
	if err != nil {
		return fmt.Errorf("loading policies: %w", err)
	}
	for id := range e.overrides {
		if !slices.ContainsFunc(set.listed, func(m Metadata) bool { return m.ID == id }) {
			return fmt.Errorf("loading policies: enforcement override for unknown policy %s", id)
		}
	}
	e.set.Store(set)
	return nil
}

// ValidateCustom compiles the library with custom as LoadCustom would, and
// discards the result: the set in force does not change. The webhook uses it
// to refuse a bad policy ConfigMap on admission.
func (e *Engine) ValidateCustom(ctx context.Context, custom []Source) error {
	if _, err := compileSet(ctx, e.store, e.library, custom, e.only, e.kinds); err != nil {
		return fmt.Errorf("validating policies: %w", err)
	}
	return nil
}

// Policies lists the policies in force, in ID order.
func (e *Engine) Policies() []Metadata {
	return e.set.Load().Policies()
}

// SetInventory replaces data.inventory and recomputes the inventory index,
// in one transaction: evaluations see the old pair or the new pair.
// Objects with the uid and resourceVersion of the previous call reuse the
// AST value converted then.
func (e *Engine) SetInventory(ctx context.Context, inv *Inventory) error {
	e.inventoryMu.Lock()
	defer e.inventoryMu.Unlock()
	doc, err := e.values.document(inv)
	if err != nil {
		return fmt.Errorf("writing the inventory: %w", err)
	}
	index := newIndexState(doc)
	err = storage.Txn(ctx, e.store, storage.WriteParams, func(txn storage.Transaction) error {
		if err := e.store.Write(ctx, txn, storage.AddOp, storage.MustParsePath("/inventory"), doc); err != nil {
			return fmt.Errorf("writing the inventory: %w", err)
		}
		return e.store.Write(ctx, txn, storage.AddOp, indexCachePath, index.value())
	})
	if err != nil {
		e.index = nil // updates wait for a whole inventory
		return err
	}
	e.index = index
	return nil
}

// Resource names the object a finding is about.
type Resource struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

func (r Resource) String() string {
	s := r.Kind + "/" + r.Name
	if r.Namespace != "" {
		s = r.Namespace + "/" + s
	}
	return s
}

// Finding is one violation of one policy by one object.
type Finding struct {
	PolicyID    string      `json:"policyID"`
	Title       string      `json:"title"`
	Severity    Severity    `json:"severity"`
	Enforcement Enforcement `json:"enforcement"`
	Aliases     []string    `json:"aliases,omitempty"`
	Message     string      `json:"message"`
	Resource    Resource    `json:"resource"`
	Source      *Location   `json:"source,omitempty"`
}

// PolicyError is one policy failing at run time on one object; Review joins
// one per failed policy, and the other policies' findings still count.
type PolicyError struct {
	PolicyID string
	// Object describes what was reviewed, with file:line when known.
	Object string
	Err    error
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("evaluating %s on %s: %v", e.PolicyID, e.Object, e.Err)
}

func (e *PolicyError) Unwrap() error { return e.Err }

// DeadlineError is a policy cut off at Options.PolicyTimeout.
type DeadlineError struct{ Timeout time.Duration }

func (e *DeadlineError) Error() string {
	return fmt.Sprintf("ran past its deadline of %s and was cut off", e.Timeout)
}

// Review evaluates every policy that routes to the review's kind and
// operation and is not suppressed on the object. Policies that fail at run
// time are reported in the error; the findings of the others are still returned.
func (e *Engine) Review(ctx context.Context, r *Review) ([]Finding, error) {
	set := e.set.Load()
	candidates := set.route(r.Group, r.Kind, r.Operation)
	if len(r.Skip) > 0 {
		candidates = slices.DeleteFunc(candidates, func(p *Policy) bool { return slices.Contains(r.Skip, p.ID) })
	}
	if !e.noPrefilter {
		// custom.requires, checked in Go: most objects never carry what,
		// say, the pattern-drift policies need.
		candidates = slices.DeleteFunc(candidates, func(p *Policy) bool { return !p.Requires.met(r.Object, r.OldObject) })
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	subject := r.subject()
	silenced := suppressed(subject)
	// An UPDATE cannot silence a deny policy by adding the annotation
	// itself: that would let anyone past it (a locked pattern object, a
	// forbidden mTLS mode). Only suppressions the object already had count.
	update := r.Operation == "UPDATE" && r.OldObject != nil
	before := suppressed(r.OldObject)
	skip := func(p *Policy) bool {
		if !slices.ContainsFunc(silenced, p.Names) {
			return false
		}
		return !update || e.enforcement(p) != EnforcementDeny || slices.ContainsFunc(before, p.Names)
	}
	if len(silenced) > 0 && !slices.ContainsFunc(candidates, func(p *Policy) bool { return !skip(p) }) {
		return nil, nil
	}
	results, errs := set.evaluate(ctx, e.timeout, e.tracer, routeKey{r.Group, r.Kind, r.Operation}, candidates, r.input())

	resource := Resource{APIVersion: joinAPIVersion(r.Group, r.Version), Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
	if resource.Name == "" {
		resource.Name = stringAt(subject, "metadata", "name")
	}
	var findings []Finding
	var policyErrs []error
	for i, p := range candidates {
		if skip(p) {
			continue
		}
		if errs[i] != nil {
			policyErrs = append(policyErrs, &PolicyError{PolicyID: p.ID, Object: r.describe(), Err: errs[i]})
			continue
		}
		enforcement := e.enforcement(p)
		for _, msg := range results[i] {
			findings = append(findings, Finding{
				PolicyID: p.ID, Title: p.Title, Severity: p.Severity, Enforcement: enforcement,
				Aliases: p.Aliases, Message: msg, Resource: resource, Source: r.Source,
			})
		}
	}
	slices.SortStableFunc(findings, func(a, b Finding) int {
		return cmp.Or(strings.Compare(a.PolicyID, b.PolicyID), strings.Compare(a.Message, b.Message))
	})
	return findings, errors.Join(policyErrs...)
}

// enforcement is the policy's action after configured overrides.
func (e *Engine) enforcement(p *Policy) Enforcement {
	if o, ok := e.overrides[p.ID]; ok {
		return o
	}
	return p.Enforcement
}

// evaluate returns the messages of each candidate, in order. Kinds known at
// compile time evaluate every candidate without requirements in one
// prepared query, and the candidates whose requirements the object met in
// another; the others, the candidates of kinds only wildcards route, and
// all of them when a combined query fails, are evaluated alone, so that
// one policy's run-time error costs only its own findings.
//
// A positive timeout bounds each evaluation (the combined queries' too):
// a policy cut off alone fails with a *DeadlineError. Once one has, or a
// combined query has been cut off as a whole, that combined query is left
// out of the set's later reviews, so that a slow policy costs its deadline
// once per review, not twice.
func (s *Set) evaluate(ctx context.Context, timeout time.Duration, tracer topdown.QueryTracer, key routeKey, candidates []*Policy, input ast.Value) ([][]string, []error) {
	results := make([][]string, len(candidates))
	errs := make([]error, len(candidates))
	done := make([]bool, len(candidates))
	eval := func(q *rego.PreparedEvalQuery) (rego.ResultSet, error) {
		if tracer != nil {
			return q.Eval(ctx, rego.EvalParsedInput(input), rego.EvalQueryTracer(tracer))
		}
		if timeout <= 0 {
			return q.Eval(ctx, rego.EvalParsedInput(input))
		}
		// OPA's cancellation, driven by a timer and by ctx: no goroutine
		// per evaluation, where a context of its own would cost OPA's.
		cancel := topdown.NewCancel()
		var cut atomic.Bool
		timer := time.AfterFunc(timeout, func() { cut.Store(true); cancel.Cancel() })
		stop := context.AfterFunc(ctx, cancel.Cancel)
		rs, err := q.Eval(ctx, rego.EvalParsedInput(input), rego.EvalExternalCancel(cancel))
		timer.Stop()
		stop()
		if err != nil && cut.Load() && ctx.Err() == nil {
			return nil, &DeadlineError{Timeout: timeout}
		}
		return rs, err
	}
	var tried []combinedQuery
	runCombined := func(c combinedQuery) {
		tried = append(tried, c)
		if c.slow.Load() {
			return
		}
		rs, err := eval(c.query)
		if _, cut := errors.AsType[*DeadlineError](err); cut {
			c.slow.Store(true) // together they take too long, even if none alone does
		}
		if err != nil || len(rs) != 1 || len(rs[0].Expressions) != 1 {
			return
		}
		if sets, ok := rs[0].Expressions[0].Value.([]any); ok && len(sets) == len(c.policies) {
			for j, p := range c.policies {
				if i := slices.Index(candidates, p); i >= 0 {
					results[i], errs[i] = violationMessages(sets[j])
					done[i] = true
				}
			}
		}
	}
	if c, ok := s.combined[key]; ok {
		runCombined(c)
	}
	// Policies whose requirements the object met, together.
	var met []*Policy
	for i, p := range candidates {
		if !done[i] && !p.Requires.IsZero() {
			met = append(met, p)
		}
	}
	if len(met) > 1 {
		if c, ok := s.metQuery(ctx, key, met); ok {
			runCombined(c)
		}
	}
	for i, p := range candidates {
		if done[i] {
			continue
		}
		rs, err := eval(&p.query)
		if err != nil {
			errs[i] = err
			if _, cut := errors.AsType[*DeadlineError](err); cut {
				for _, c := range tried {
					if slices.Contains(c.policies, p) {
						c.slow.Store(true)
					}
				}
			}
			continue
		}
		if len(rs) > 0 && len(rs[0].Expressions) > 0 {
			results[i], errs[i] = violationMessages(rs[0].Expressions[0].Value)
		}
	}
	return results, errs
}

func (r *Review) describe() string {
	s := r.Kind + " " + r.Name
	if r.Namespace != "" {
		s = r.Kind + " " + r.Namespace + "/" + r.Name
	}
	if r.Source != nil {
		s += fmt.Sprintf(" (%s:%d)", r.Source.File, r.Source.Line)
	}
	return s
}

func joinAPIVersion(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

// violationMessages reads a violation set of {"msg": ...} objects, sorted.
func violationMessages(value any) ([]string, error) {
	values, ok := value.([]any)
	if !ok {
		return nil, fmt.Errorf("violation is %T, want a set", value)
	}
	msgs := make([]string, 0, len(values))
	for _, v := range values {
		obj, _ := v.(map[string]any)
		msg, ok := obj["msg"].(string)
		if !ok || strings.TrimSpace(msg) == "" {
			return nil, fmt.Errorf(`a violation has no "msg" string: %v`, v)
		}
		msgs = append(msgs, msg)
	}
	slices.Sort(msgs)
	return msgs, nil
}

// route returns the policies reviewing this kind on this operation. It runs
// in Go, before any Rego, so policies for other kinds cost nothing.
func (s *Set) route(group, kind, operation string) []*Policy {
	var out []*Policy
	for _, p := range s.exact[Kind{Group: group, Kind: kind}] {
		if slices.Contains(p.Operations, operation) {
			out = append(out, p)
		}
	}
	for _, p := range s.wildcard {
		if p.Matches(group, kind, operation) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
