package pattern

import (
	"fmt"
	"maps"
)

// Feature is one thing a pattern can ask for. Each translator declares,
// per feature, whether its mesh can express it (the capability matrix);
// a feature a mesh cannot express is an error, never dropped.
type Feature string

// The features, in the order the capability matrix lists them.
const (
	FeatureSplit            Feature = "traffic.split"
	FeatureHeaderMatch      Feature = "traffic.match.headers"
	FeaturePathMatch        Feature = "traffic.match.path"
	FeatureTimeout          Feature = "traffic.timeout"
	FeatureRetries          Feature = "traffic.retries"
	FeatureRetryBudget      Feature = "traffic.retries.budget"
	FeatureFaultDelay       Feature = "traffic.fault.delay"
	FeatureFaultAbort       Feature = "traffic.fault.abort"
	FeatureMirror           Feature = "traffic.mirror"
	FeatureCircuitBreaker   Feature = "resilience.circuitBreaker"
	FeatureOutlierDetection Feature = "resilience.outlierDetection"
	FeatureLoadBalancer     Feature = "resilience.loadBalancer"
	FeatureConnectionPool   Feature = "resilience.connectionPool"
	FeatureMTLS             Feature = "security.mtls"
	FeatureAllowFromSA      Feature = "security.allow.serviceAccounts"
	FeatureAllowFromNS      Feature = "security.allow.namespaces"
	FeatureAllowMethodsPath Feature = "security.allow.methodsAndPaths"
	FeatureInjection        Feature = "injection"
	FeatureRaw              Feature = "raw"
)

// Features lists every feature, in matrix order.
var Features = []Feature{
	FeatureSplit, FeatureHeaderMatch, FeaturePathMatch, FeatureTimeout,
	FeatureRetries, FeatureRetryBudget, FeatureFaultDelay, FeatureFaultAbort,
	FeatureMirror, FeatureCircuitBreaker, FeatureOutlierDetection,
	FeatureLoadBalancer, FeatureConnectionPool, FeatureMTLS, FeatureAllowFromSA,
	FeatureAllowFromNS, FeatureAllowMethodsPath, FeatureInjection, FeatureRaw,
}

// FeatureUse is a feature and the field path in the pattern that asks for it.
type FeatureUse struct {
	Feature Feature
	Path    string // e.g. spec.services[0].traffic.routes[1].fault.delay
}

// FeatureUses lists every use of a feature in the pattern, in document order.
func (p *Pattern) FeatureUses() []FeatureUse {
	var uses []FeatureUse
	use := func(f Feature, path string, args ...any) {
		uses = append(uses, FeatureUse{Feature: f, Path: fmt.Sprintf(path, args...)})
	}
	if p.Spec.MTLS != "" {
		use(FeatureMTLS, "spec.mtls")
	}
	if p.Spec.Injection != nil && len(p.Spec.Injection.Namespaces) > 0 {
		use(FeatureInjection, "spec.injection")
	}
	for i, s := range p.Spec.Services {
		svc := fmt.Sprintf("spec.services[%d]", i)
		if s.Traffic != nil {
			for j, r := range s.Traffic.Routes {
				route := fmt.Sprintf("%s.traffic.routes[%d]", svc, j)
				if len(r.Split) > 0 {
					use(FeatureSplit, "%s.split", route)
				}
				if r.Match != nil && len(r.Match.Headers) > 0 {
					use(FeatureHeaderMatch, "%s.match.headers", route)
				}
				if r.Match != nil && r.Match.Path != nil {
					use(FeaturePathMatch, "%s.match.path", route)
				}
				if r.Timeout != "" {
					use(FeatureTimeout, "%s.timeout", route)
				}
				if r.Retries != nil {
					use(FeatureRetries, "%s.retries", route)
					if r.Retries.Budget != nil {
						use(FeatureRetryBudget, "%s.retries.budget", route)
					}
				}
				if r.Fault != nil && r.Fault.Delay != nil {
					use(FeatureFaultDelay, "%s.fault.delay", route)
				}
				if r.Fault != nil && r.Fault.Abort != nil {
					use(FeatureFaultAbort, "%s.fault.abort", route)
				}
				if r.Mirror != nil {
					use(FeatureMirror, "%s.mirror", route)
				}
			}
		}
		if r := s.Resilience; r != nil {
			if r.CircuitBreaker != nil {
				use(FeatureCircuitBreaker, "%s.resilience.circuitBreaker", svc)
			}
			if r.OutlierDetection != nil {
				use(FeatureOutlierDetection, "%s.resilience.outlierDetection", svc)
			}
			if r.LoadBalancer != nil {
				use(FeatureLoadBalancer, "%s.resilience.loadBalancer", svc)
			}
			if r.ConnectionPool != nil {
				use(FeatureConnectionPool, "%s.resilience.connectionPool", svc)
			}
		}
		if sec := s.Security; sec != nil {
			if sec.MTLS != "" {
				use(FeatureMTLS, "%s.security.mtls", svc)
			}
			for k, a := range sec.Allow {
				rule := fmt.Sprintf("%s.security.allow[%d]", svc, k)
				if len(a.From.ServiceAccounts) > 0 {
					use(FeatureAllowFromSA, "%s.from.serviceAccounts", rule)
				}
				if len(a.From.Namespaces) > 0 {
					use(FeatureAllowFromNS, "%s.from.namespaces", rule)
				}
				if len(a.Methods) > 0 || len(a.Paths) > 0 {
					use(FeatureAllowMethodsPath, "%s", rule)
				}
			}
		}
	}
	for i := range p.Spec.Raw {
		use(FeatureRaw, "spec.raw[%d]", i)
	}
	return uses
}

// PodSelector is the service's pod selector: its selector, or {app: name}.
func (s *Service) PodSelector() map[string]string {
	if len(s.Selector) > 0 {
		return maps.Clone(s.Selector)
	}
	return map[string]string{"app": s.Name}
}

// ServiceAccountName is the service account the service's pods run as.
func (s *Service) ServiceAccountName() string {
	if s.ServiceAccount != "" {
		return s.ServiceAccount
	}
	return s.Name
}

// Version returns the named version, or nil.
func (s *Service) Version(name string) *Version {
	for i := range s.Versions {
		if s.Versions[i].Name == name {
			return &s.Versions[i]
		}
	}
	return nil
}

// VersionServiceName is the Service that selects only version v's pods:
// v.Service, or the generated <service>-<version>.
func (s *Service) VersionServiceName(v *Version) string {
	if v.Service != "" {
		return v.Service
	}
	return s.Name + "-" + v.Name
}

// VersionSelector is the pod selector of version v: the service's pod
// selector plus the version's labels.
func (s *Service) VersionSelector(v *Version) map[string]string {
	sel := s.PodSelector()
	maps.Copy(sel, v.Labels)
	return sel
}
