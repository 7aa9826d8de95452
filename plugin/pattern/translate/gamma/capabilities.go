package gamma

import (
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Capabilities says which part of an HTTPRoute carries each feature, and
// why the rest has no Gateway API form.
func (*Translator) Capabilities() map[pattern.Feature]translate.Capability {
	c := func(s translate.Support, note string) translate.Capability {
		return translate.Capability{Support: s, Note: note}
	}
	const mesh = "; configure it with the mesh's own resources in spec.raw"
	return map[pattern.Feature]translate.Capability{
		pattern.FeatureSplit: c(translate.Full, "HTTPRoute rules[].backendRefs weights to per-version Services"),
		pattern.FeatureHeaderMatch: c(translate.Partial,
			"HTTPRoute rules[].matches[].headers: exact, and regex (implementation-specific); no prefix match; rules are ranked by specificity, not order"),
		pattern.FeaturePathMatch: c(translate.Partial,
			"HTTPRoute rules[].matches[].path: Exact, PathPrefix (whole path segments), RegularExpression (implementation-specific); rules are ranked by specificity, not order"),
		pattern.FeatureTimeout:          c(translate.Full, "HTTPRoute rules[].timeouts.request"),
		pattern.FeatureRetries:          c(translate.None, "HTTPRoute rules[].retry is experimental in Gateway API v1.6; the standard-channel CRDs reject it"),
		pattern.FeatureRetryBudget:      c(translate.None, "Gateway API has no retry budget"),
		pattern.FeatureFaultDelay:       c(translate.None, "Gateway API has no fault injection"+mesh),
		pattern.FeatureFaultAbort:       c(translate.None, "Gateway API has no fault injection"+mesh),
		pattern.FeatureMirror:           c(translate.Full, "HTTPRoute RequestMirror filter to the version's Service (percent, or fraction)"),
		pattern.FeatureCircuitBreaker:   c(translate.None, "Gateway API has no circuit breaking"+mesh),
		pattern.FeatureOutlierDetection: c(translate.None, "Gateway API has no outlier detection"+mesh),
		pattern.FeatureLoadBalancer:     c(translate.None, "Gateway API has no load balancer settings"+mesh),
		pattern.FeatureConnectionPool:   c(translate.None, "Gateway API has no connection pool settings"+mesh),
		pattern.FeatureMTLS:             c(translate.None, "Gateway API leaves mesh mTLS to the implementation"+mesh),
		pattern.FeatureAllowFromSA:      c(translate.None, "Gateway API has no authorization policy"+mesh),
		pattern.FeatureAllowFromNS:      c(translate.None, "Gateway API has no authorization policy"+mesh),
		pattern.FeatureAllowMethodsPath: c(translate.None, "Gateway API has no authorization policy"+mesh),
		pattern.FeatureInjection:        c(translate.None, "Gateway API does not manage proxy injection; use the mesh's namespace label"),
		pattern.FeatureRaw:              c(translate.Full, "applied as written"),
	}
}
