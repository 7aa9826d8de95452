package smi

import (
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Capabilities says which SMI resource carries each feature.
func (*Translator) Capabilities() map[pattern.Feature]translate.Capability {
	c := func(s translate.Support, note string) translate.Capability {
		return translate.Capability{Support: s, Note: note}
	}
	return map[pattern.Feature]translate.Capability{
		pattern.FeatureSplit: c(translate.Full,
			"TrafficSplit (split.smi-spec.io/v1alpha4) spec.service the service, backends the per-version Services with weights; one TrafficSplit per route"),
		pattern.FeatureHeaderMatch: c(translate.Partial,
			"TrafficSplit spec.matches -> HTTPRouteGroup (specs.smi-spec.io/v1alpha4) matches[].headers (regex values; exact and prefix become anchored regexes); SMI orders no two TrafficSplits with matches, so routes that may overlap an earlier matching route are gaps"),
		pattern.FeaturePathMatch: c(translate.Partial,
			"HTTPRouteGroup matches[].pathRegex (exact and prefix as anchored regexes); overlapping routes as for headers"),
		pattern.FeatureTimeout:          c(translate.None, "SMI has no timeouts"),
		pattern.FeatureRetries:          c(translate.None, "SMI has no retries"),
		pattern.FeatureRetryBudget:      c(translate.None, "SMI has no retries"),
		pattern.FeatureFaultDelay:       c(translate.None, "SMI has no fault injection"),
		pattern.FeatureFaultAbort:       c(translate.None, "SMI has no fault injection"),
		pattern.FeatureMirror:           c(translate.None, "SMI has no traffic mirroring"),
		pattern.FeatureCircuitBreaker:   c(translate.None, "SMI has no resilience settings"),
		pattern.FeatureOutlierDetection: c(translate.None, "SMI has no resilience settings"),
		pattern.FeatureLoadBalancer:     c(translate.None, "SMI has no resilience settings"),
		pattern.FeatureConnectionPool:   c(translate.None, "SMI has no resilience settings"),
		pattern.FeatureMTLS:             c(translate.None, "SMI leaves mTLS to the mesh implementation"),
		pattern.FeatureAllowFromSA: c(translate.Full,
			"TrafficTarget (access.smi-spec.io/v1alpha3) destination the service's ServiceAccount, sources ServiceAccounts, rules an HTTPRouteGroup (every path and method when the rule names none)"),
		pattern.FeatureAllowFromNS:      c(translate.None, "TrafficTarget sources are service accounts only"),
		pattern.FeatureAllowMethodsPath: c(translate.Full, "HTTPRouteGroup matches[] methods and pathRegex (exact, or prefix for a path ending in *), referenced by TrafficTarget rules"),
		pattern.FeatureInjection:        c(translate.None, "SMI leaves proxy injection to the mesh implementation"),
		pattern.FeatureRaw:              c(translate.Full, "applied as written"),
	}
}
