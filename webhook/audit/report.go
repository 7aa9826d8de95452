package audit

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

const (
	// ReportName names the Report of each audited namespace and the
	// ClusterReport of cluster-scoped objects.
	ReportName = "kubectl-mesh-audit"
	// SourceName is the source of the reports and of each result.
	SourceName = "kubectl-mesh"
	// ManagedByLabel and ManagedBy mark the reports the audit owns: it
	// deletes those of namespaces with nothing left to audit.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "kubectl-mesh"
)

// The OpenReports results the audit writes; the API defines no constants.
const (
	resultFail  v1alpha1.Result = "fail"
	resultWarn  v1alpha1.Result = "warn"
	resultError v1alpha1.Result = "error"
)

// content is what the audit owns in a Report or ClusterReport.
type content struct {
	Source        string
	Summary       v1alpha1.ReportSummary
	Results       []v1alpha1.ReportResult
	Configuration *v1alpha1.ReportConfiguration
}

// buildContent lists a scope's outcomes as results. A result already in
// previous (same policy, object, verdict and message) keeps its timestamp,
// the time it was first found, so an audit that finds nothing new writes
// nothing. Past maxResults the list is cut and configuration.limits says so.
func buildContent(s *scope, previous []v1alpha1.ReportResult, now time.Time, maxResults int) content {
	found := make(map[string]metav1.Timestamp, len(previous))
	for _, r := range previous {
		found[resultKey(r)] = r.Timestamp
	}
	c := content{Source: SourceName, Summary: s.summary}
	outcomes := s.outcomes
	if len(outcomes) > maxResults {
		outcomes = outcomes[:maxResults]
		c.Configuration = &v1alpha1.ReportConfiguration{Limits: v1alpha1.Limits{MaxResults: maxResults}}
	}
	ts := metav1.Timestamp{Seconds: now.Unix()}
	for _, o := range outcomes {
		r := resultOf(o, ts)
		if t, ok := found[resultKey(r)]; ok {
			r.Timestamp = t
		}
		c.Results = append(c.Results, r)
	}
	return c
}

// resultOf maps an outcome to an OpenReports result:
//
//	policy severity  result  severity  scored
//	error            fail    high      true
//	warning          warn    medium    false
//	info             warn    info      false
//
// Evaluation errors are result error. The category is the policy's mesh
// (istio, linkerd, smi, gamma, any, custom); properties carry the
// enforcement on admission and the istioctl/Kiali aliases.
func resultOf(o outcome, ts metav1.Timestamp) v1alpha1.ReportResult {
	rule := o.policy.Title
	if rule == "" {
		rule = o.policy.ID
	}
	props := map[string]string{}
	if o.policy.Enforcement != "" {
		props["enforcement"] = string(o.policy.Enforcement)
	}
	if len(o.policy.Aliases) > 0 {
		props["aliases"] = strings.Join(o.policy.Aliases, ",")
	}
	if len(props) == 0 {
		props = nil
	}
	return v1alpha1.ReportResult{
		Source:      SourceName,
		Policy:      o.policy.ID,
		Rule:        rule,
		Category:    o.policy.Mesh(),
		Severity:    severityOf(o.severity),
		Timestamp:   ts,
		Result:      o.result,
		Scored:      o.result == resultFail,
		Subjects:    []corev1.ObjectReference{o.subject},
		Description: o.message,
		Properties:  props,
	}
}

func severityOf(s policies.Severity) v1alpha1.ResultSeverity {
	switch s {
	case policies.SeverityError:
		return "high"
	case policies.SeverityWarning:
		return "medium"
	}
	return "info"
}

// resultKey identifies a result across audits.
func resultKey(r v1alpha1.ReportResult) string {
	parts := []string{r.Policy, string(r.Result), r.Description}
	for _, s := range r.Subjects {
		parts = append(parts, s.APIVersion, s.Kind, s.Namespace, s.Name, string(s.UID))
	}
	return strings.Join(parts, "\x00")
}

// compareOutcomes orders failures first, then errors, then warnings; then
// by policy and object, so reports and Events come out in a stable order.
func compareOutcomes(a, b outcome) int {
	rank := func(r v1alpha1.Result) int {
		return slices.Index([]v1alpha1.Result{resultFail, resultError, resultWarn}, r)
	}
	return cmp.Or(
		cmp.Compare(rank(a.result), rank(b.result)),
		strings.Compare(a.policy.ID, b.policy.ID),
		strings.Compare(a.subject.Namespace, b.subject.Namespace),
		strings.Compare(a.subject.Kind, b.subject.Kind),
		strings.Compare(a.subject.Name, b.subject.Name),
	)
}
