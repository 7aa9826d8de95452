package istio

import (
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Capabilities says which Istio resource carries each feature.
func (*Translator) Capabilities() map[pattern.Feature]translate.Capability {
	full := func(note string) translate.Capability {
		return translate.Capability{Support: translate.Full, Note: note}
	}
	return map[pattern.Feature]translate.Capability{
		pattern.FeatureSplit:       full("VirtualService http[].route[] weights to DestinationRule subsets"),
		pattern.FeatureHeaderMatch: full("VirtualService http[].match[].headers (exact, prefix, regex)"),
		pattern.FeaturePathMatch:   full("VirtualService http[].match[].uri (exact, prefix, regex)"),
		pattern.FeatureTimeout:     full("VirtualService http[].timeout"),
		pattern.FeatureRetries:     full("VirtualService http[].retries (attempts, perTryTimeout, retryOn)"),
		pattern.FeatureRetryBudget: {Support: translate.Partial,
			Note: "DestinationRule trafficPolicy.retryBudget (percent = retryRatio x 100, budgetInterval = ttl); one budget per service, and Envoy has no minimum retries per second"},
		pattern.FeatureFaultDelay:       full("VirtualService http[].fault.delay"),
		pattern.FeatureFaultAbort:       full("VirtualService http[].fault.abort"),
		pattern.FeatureMirror:           full("VirtualService http[].mirror and mirrorPercentage"),
		pattern.FeatureCircuitBreaker:   full("DestinationRule trafficPolicy.connectionPool limits"),
		pattern.FeatureOutlierDetection: full("DestinationRule trafficPolicy.outlierDetection"),
		pattern.FeatureLoadBalancer:     full("DestinationRule trafficPolicy.loadBalancer (consistent-hash without hashHeader hashes the source IP)"),
		pattern.FeatureConnectionPool:   full("DestinationRule trafficPolicy.connectionPool timeouts"),
		pattern.FeatureMTLS:             full("PeerAuthentication (namespace-wide \"default\", or per service with a selector)"),
		pattern.FeatureAllowFromSA:      full("AuthorizationPolicy rules[].from[].source.principals (trust domain cluster.local)"),
		pattern.FeatureAllowFromNS:      full("AuthorizationPolicy rules[].from[].source.namespaces"),
		pattern.FeatureAllowMethodsPath: full("AuthorizationPolicy rules[].to[].operation methods and paths"),
		pattern.FeatureInjection:        full("namespace label istio-injection=enabled"),
		pattern.FeatureRaw:              full("applied as written"),
	}
}
