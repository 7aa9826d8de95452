package linkerd

import (
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Capabilities says which Linkerd resource carries each feature.
func (*Translator) Capabilities() map[pattern.Feature]translate.Capability {
	c := func(s translate.Support, note string) translate.Capability {
		return translate.Capability{Support: s, Note: note}
	}
	return map[pattern.Feature]translate.Capability{
		pattern.FeatureSplit: c(translate.Partial,
			"HTTPRoute (policy.linkerd.io/v1beta3, parent the Service) rules[].backendRefs weights to per-version Services; with a retry budget, ServiceProfile dstOverrides, which split all of the service's traffic one way"),
		pattern.FeatureHeaderMatch: c(translate.Partial,
			"HTTPRoute rules[].matches[].headers (exact; prefix and regex as anchored RegularExpression); Linkerd ranks rules by specificity, so a route that would overtake an earlier one is a gap; a ServiceProfile (retry budget) cannot match headers"),
		pattern.FeaturePathMatch: c(translate.Partial,
			"HTTPRoute rules[].matches[].path (Exact, PathPrefix by whole segments, RegularExpression); ranked by specificity like headers; ServiceProfile routes[].condition.pathRegex"),
		pattern.FeatureTimeout: c(translate.Full, "HTTPRoute rules[].timeouts.request; ServiceProfile routes[].timeout"),
		pattern.FeatureRetries: c(translate.Partial,
			"HTTPRoute annotations retry.linkerd.io/http (5xx, gateway-error, retriable-4xx as 409, status codes and ranges; 5xx when on is empty), retry.linkerd.io/limit, retry.linkerd.io/timeout; routes with different retries get HTTPRoutes of their own; connection and stream conditions are gaps; in a ServiceProfile routes[].isRetryable, bounded by the budget rather than attempts"),
		pattern.FeatureRetryBudget: c(translate.Partial,
			"ServiceProfile <service>.<namespace>.svc.cluster.local retryBudget (Linkerd's defaults 10/s and 10s for omitted fields), which then carries all of the service's routing, since Linkerd gives it precedence over HTTPRoutes; one budget per service"),
		pattern.FeatureFaultDelay:       c(translate.None, "Linkerd has no fault injection"),
		pattern.FeatureFaultAbort:       c(translate.None, "Linkerd has no fault injection"),
		pattern.FeatureMirror:           c(translate.None, "Linkerd has no traffic mirroring"),
		pattern.FeatureCircuitBreaker:   c(translate.None, "Linkerd has no connection or request limits; its circuit breaking is failure accrual (resilience.outlierDetection)"),
		pattern.FeatureOutlierDetection: c(translate.Partial, "Service annotations balancer.linkerd.io/failure-accrual=consecutive, -consecutive-max-failures, -consecutive-min-penalty (baseEjectionTime); interval and maxEjectionPercent are gaps"),
		pattern.FeatureLoadBalancer:     c(translate.Partial, "least-request is Linkerd's own balancer (EWMA, power of two choices), nothing to render; other algorithms are gaps"),
		pattern.FeatureConnectionPool:   c(translate.None, "Linkerd does not expose connection pool settings"),
		pattern.FeatureMTLS: c(translate.Partial,
			"namespace: Namespace annotation config.linkerd.io/default-inbound-policy (STRICT all-authenticated, PERMISSIVE all-unauthenticated), read when pods restart; service: a Server per port with that accessPolicy; DISABLE is a gap, meshed pods always use mTLS"),
		pattern.FeatureAllowFromSA: c(translate.Full,
			"a Server per port (accessPolicy deny), MeshTLSAuthentication identityRefs ServiceAccount, AuthorizationPolicy requiredAuthenticationRefs targeting the Server"),
		pattern.FeatureAllowFromNS: c(translate.Full, "MeshTLSAuthentication identityRefs Namespace"),
		pattern.FeatureAllowMethodsPath: c(translate.Full,
			"HTTPRoute with the Servers as parents (method, Exact path, prefix as RegularExpression) and an AuthorizationPolicy targeting it; once a Server has HTTPRoutes, requests matching none are refused, including kubelet probes, which need a route of their own"),
		pattern.FeatureInjection: c(translate.Full, "Namespace annotation linkerd.io/inject=enabled"),
		pattern.FeatureRaw:       c(translate.Full, "applied as written"),
	}
}
