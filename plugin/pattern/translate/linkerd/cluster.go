package linkerd

import (
	"fmt"
	"strconv"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Annotations the translator sets on objects that are not the pattern's.
const (
	annotationInject        = "linkerd.io/inject"
	annotationInboundPolicy = "config.linkerd.io/default-inbound-policy"
	annotationAccrual       = "balancer.linkerd.io/failure-accrual"
	annotationMaxFailures   = "balancer.linkerd.io/failure-accrual-consecutive-max-failures"
	annotationMinPenalty    = "balancer.linkerd.io/failure-accrual-consecutive-min-penalty"
)

// namespaces renders injection and the namespace-wide mTLS mode as
// annotations of shared Namespaces, one object per namespace. The
// default inbound policy is read when a pod's proxy is injected, so it
// takes effect as pods restart.
func namespaces(p *pattern.Pattern, gaps *translate.Gaps) []translate.Object {
	var order []string
	annotations := map[string]map[string]string{}
	set := func(ns, key, value string) {
		if annotations[ns] == nil {
			annotations[ns] = map[string]string{}
			order = append(order, ns)
		}
		annotations[ns][key] = value
	}
	if p.Spec.Injection != nil {
		for _, ns := range p.Spec.Injection.Namespaces {
			set(ns, annotationInject, "enabled")
		}
	}
	switch p.Spec.MTLS {
	case "":
	case pattern.MTLSDisable:
		gaps.Add(pattern.FeatureMTLS, "spec.mtls", "meshed pods always use mTLS between each other")
	default:
		set(p.Metadata.Namespace, annotationInboundPolicy, accessPolicies[p.Spec.MTLS])
	}
	var out []translate.Object
	for _, ns := range order {
		out = append(out, sharedObject("v1", "Namespace", "", ns, annotations[ns]))
	}
	return out
}

// resilience renders outlier detection as Linkerd's consecutive-failure
// accrual annotations on the (shared) Service; the load balancer is
// Linkerd's own. Circuit breaker limits and connection pools are None, so
// Run has reported them.
func resilience(p *pattern.Pattern, s *pattern.Service, svcPath string, gaps *translate.Gaps) []translate.Object {
	r := s.Resilience
	path := svcPath + ".resilience"
	if lb := r.LoadBalancer; lb != nil && lb.Algorithm != pattern.LBLeastRequest {
		gaps.Add(pattern.FeatureLoadBalancer, path+".loadBalancer.algorithm",
			fmt.Sprintf("Linkerd always balances by least load (EWMA latency, power of two choices), not %s", lb.Algorithm))
	}
	od := r.OutlierDetection
	if od == nil {
		return nil
	}
	if od.Interval != "" {
		gaps.Add(pattern.FeatureOutlierDetection, path+".outlierDetection.interval", "Linkerd counts consecutive failures without an interval")
	}
	if od.MaxEjectionPercent != 0 {
		gaps.Add(pattern.FeatureOutlierDetection, path+".outlierDetection.maxEjectionPercent", "Linkerd has no limit on the share of endpoints it makes unavailable")
	}
	annotations := map[string]string{
		annotationAccrual:     "consecutive",
		annotationMaxFailures: strconv.Itoa(int(od.ConsecutiveErrors)),
	}
	if od.BaseEjectionTime != "" {
		annotations[annotationMinPenalty] = od.BaseEjectionTime
	}
	return []translate.Object{sharedObject("v1", "Service", p.Metadata.Namespace, s.Name, annotations)}
}
