package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// outcome is what a report lists about one policy on one object: a
// violation (fail or warn, every message of the policy joined) or an
// evaluation error. Passes and skips are only counted.
type outcome struct {
	policy   policies.Metadata
	result   v1alpha1.Result
	subject  corev1.ObjectReference
	message  string
	severity policies.Severity
}

// scope is the audit of one namespace, or of the cluster-scoped objects
// when namespace is "".
type scope struct {
	namespace string
	summary   v1alpha1.ReportSummary
	outcomes  []outcome
}

// evaluation is the result of reviewing every object of one audit.
type evaluation struct {
	scopes  map[string]*scope
	objects int
}

func (e *evaluation) scope(namespace string) *scope {
	s, ok := e.scopes[namespace]
	if !ok {
		s = &scope{namespace: namespace}
		e.scopes[namespace] = s
	}
	return s
}

// violations lists the fail and warn outcomes of every scope.
func (e *evaluation) violations() []outcome {
	var out []outcome
	for _, s := range e.scopes {
		for _, o := range s.outcomes {
			if o.result == resultFail || o.result == resultWarn {
				out = append(out, o)
			}
		}
	}
	slices.SortFunc(out, compareOutcomes)
	return out
}

// evaluate reviews every object some policy reviews on CREATE. Each
// (policy, object) pair counts once in its scope's summary: pass, fail,
// warn, error, or skip when the object's annotation suppresses the policy.
func (a *Auditor) evaluate(ctx context.Context, objects []map[string]any) (*evaluation, error) {
	ev := &evaluation{scopes: map[string]*scope{}}
	// Policies cut off at their deadline on maxCutOffs objects are not
	// evaluated on the others of this audit: a slow policy would otherwise
	// cost its deadline on every object, and hold back every report.
	cutOffs := map[string]int{}
	var skipped []string
	router := newRouter(a.cfg.Engine.Policies())
	nsLabels := namespaceLabels(objects)
	for _, obj := range objects {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ref := reference(obj)
		group, _ := policies.SplitAPIVersion(ref.APIVersion)
		if ref.Kind == "" || ref.Name == "" || a.exempt(ref, group, nsLabels) {
			continue
		}
		candidates := router.route(group, ref.Kind)
		if len(candidates) == 0 {
			continue
		}
		ev.objects++
		value, err := policies.ToValue(obj)
		if err != nil {
			return nil, fmt.Errorf("reviewing %s: %w", ref.Kind+" "+ref.Name, err)
		}
		review := policies.NewReview(value, nil)
		review.UserInfo = policies.UserInfo{Username: "kubectl-mesh-audit"}
		review.Skip = skipped
		findings, err := a.cfg.Engine.Review(ctx, review)
		failed := failedPolicies(err, candidates)
		for _, id := range a.countTimeouts(err) {
			if cutOffs[id]++; cutOffs[id] == maxCutOffs {
				skipped = append(skipped, id)
			}
		}
		silenced := suppressed(obj)
		s := ev.scope(ref.Namespace)
		for _, p := range candidates {
			switch mine := findingsOf(findings, p.ID); {
			case slices.ContainsFunc(silenced, p.Names):
				s.summary.Skip++
			case len(mine) > 0:
				o := violation(p, ref, mine)
				if o.result == resultFail {
					s.summary.Fail++
				} else {
					s.summary.Warn++
				}
				s.outcomes = append(s.outcomes, o)
			case failed[p.ID] != "":
				s.summary.Error++
				s.outcomes = append(s.outcomes, outcome{policy: p, result: resultError, subject: ref, message: failed[p.ID], severity: p.Severity})
			case slices.Contains(review.Skip, p.ID):
				s.summary.Error++
				s.outcomes = append(s.outcomes, outcome{policy: p, result: resultError, subject: ref, severity: p.Severity,
					message: fmt.Sprintf("not evaluated: %s ran past its deadline on %d objects earlier in this audit", p.ID, maxCutOffs)})
			default:
				s.summary.Pass++
			}
		}
	}
	for _, s := range ev.scopes {
		slices.SortFunc(s.outcomes, compareOutcomes)
	}
	return ev, nil
}

// violation turns a policy's findings on one object into one outcome. The
// result follows the severity: error fails, warning and info warn. The
// enforcement is what admission does and stays a property of the result.
func violation(p policies.Metadata, ref corev1.ObjectReference, findings []policies.Finding) outcome {
	msgs := make([]string, len(findings))
	for i, f := range findings {
		msgs[i] = f.Message
	}
	result := resultWarn
	if findings[0].Severity == policies.SeverityError {
		result = resultFail
	}
	p.Enforcement = findings[0].Enforcement // with the configured override
	return outcome{policy: p, result: result, subject: ref, message: strings.Join(msgs, "; "), severity: findings[0].Severity}
}

func findingsOf(findings []policies.Finding, id string) []policies.Finding {
	var out []policies.Finding
	for _, f := range findings {
		if f.PolicyID == id {
			out = append(out, f)
		}
	}
	return out
}

// maxCutOffs is how many objects a policy may be cut off on in one audit
// before it is left out of the rest of it.
const maxCutOffs = 3

// countTimeouts counts the policies of err cut off at their deadline, and
// returns them.
func (a *Auditor) countTimeouts(err error) []string {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	var ids []string
	for _, e := range errs {
		pe, ok := errors.AsType[*policies.PolicyError](e)
		if _, cut := errors.AsType[*policies.DeadlineError](e); ok && cut {
			ids = append(ids, pe.PolicyID)
			if a.cfg.Metrics != nil {
				a.cfg.Metrics.PolicyTimeouts.WithLabelValues(pe.PolicyID, "audit").Inc()
			}
		}
	}
	return ids
}

// failedPolicies maps the candidates whose evaluation failed to the error.
// The engine returns a *policies.PolicyError per failed policy; any other
// error (the input could not be built) failed them all.
func failedPolicies(err error, candidates []policies.Metadata) map[string]string {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	failed := map[string]string{}
	for _, e := range errs {
		if pe, ok := errors.AsType[*policies.PolicyError](e); ok {
			failed[pe.PolicyID] = e.Error()
		}
	}
	if len(failed) == 0 {
		for _, p := range candidates {
			failed[p.ID] = err.Error()
		}
	}
	return failed
}

// exempt reports whether the object is outside the audit: in an excluded
// namespace or one the selector does not match, or such a Namespace itself.
func (a *Auditor) exempt(ref corev1.ObjectReference, group string, nsLabels map[string]labels.Set) bool {
	ns := ref.Namespace
	if ns == "" && group == "" && ref.Kind == "Namespace" {
		ns = ref.Name
	}
	if ns == "" {
		return false
	}
	if slices.Contains(a.cfg.ExcludedNamespaces, ns) {
		return true
	}
	return a.cfg.NamespaceSelector != nil && !a.cfg.NamespaceSelector.Matches(nsLabels[ns])
}

// namespaceLabels reads the labels of the Namespace objects among objects.
func namespaceLabels(objects []map[string]any) map[string]labels.Set {
	out := map[string]labels.Set{}
	for _, obj := range objects {
		if obj["apiVersion"] != "v1" || obj["kind"] != "Namespace" {
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		set := labels.Set{}
		raw, _ := meta["labels"].(map[string]any)
		for k, v := range raw {
			if s, ok := v.(string); ok {
				set[k] = s
			}
		}
		out[name] = set
	}
	return out
}

// reference names obj for reports and Events. The resourceVersion is left
// out: it would rewrite every report at every audit.
func reference(obj map[string]any) corev1.ObjectReference {
	meta, _ := obj["metadata"].(map[string]any)
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	return corev1.ObjectReference{
		APIVersion: str(obj, "apiVersion"),
		Kind:       str(obj, "kind"),
		Namespace:  str(meta, "namespace"),
		Name:       str(meta, "name"),
		UID:        types.UID(str(meta, "uid")),
	}
}

// suppressed reads the IDs and aliases the object's annotation silences,
// as the engine does, so that silenced policies count as skipped.
func suppressed(obj map[string]any) []string {
	meta, _ := obj["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	value, _ := annotations[policies.SuppressAnnotation].(string)
	var ids []string
	for id := range strings.SplitSeq(value, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// router finds the policies that review a kind on CREATE, once per kind.
type router struct {
	policies []policies.Metadata
	byKind   map[policies.Kind][]policies.Metadata
}

func newRouter(ps []policies.Metadata) *router {
	return &router{policies: ps, byKind: map[policies.Kind][]policies.Metadata{}}
}

func (r *router) route(group, kind string) []policies.Metadata {
	key := policies.Kind{Group: group, Kind: kind}
	if ps, ok := r.byKind[key]; ok {
		return ps
	}
	var ps []policies.Metadata
	for _, p := range r.policies {
		if p.Matches(group, kind, "CREATE") {
			ps = append(ps, p)
		}
	}
	r.byKind[key] = ps
	return ps
}
