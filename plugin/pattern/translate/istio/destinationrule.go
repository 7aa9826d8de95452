package istio

import (
	"fmt"

	"google.golang.org/protobuf/types/known/wrapperspb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// needsDestinationRule: versions need subsets; resilience and retry
// budgets live in the traffic policy.
func needsDestinationRule(s *pattern.Service) bool {
	return len(s.Versions) > 0 || s.Resilience != nil || retryBudget(s) != nil
}

// retryBudget is the service's first route retry budget.
func retryBudget(s *pattern.Service) *pattern.RetryBudget {
	if s.Traffic == nil {
		return nil
	}
	for _, r := range s.Traffic.Routes {
		if r.Retries != nil && r.Retries.Budget != nil {
			return r.Retries.Budget
		}
	}
	return nil
}

// destinationRule holds the version subsets and the traffic policy
// towards the service.
func destinationRule(p *pattern.Pattern, s *pattern.Service, svcPath string, gaps *translate.Gaps) (translate.Object, error) {
	dr := &networkingv1.DestinationRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.istio.io/v1", Kind: "DestinationRule"},
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: p.Metadata.Namespace},
	}
	dr.Spec.Host = s.Name
	for _, v := range s.Versions {
		dr.Spec.Subsets = append(dr.Spec.Subsets, &networkingv1alpha3.Subset{Name: v.Name, Labels: v.Labels})
	}
	policy := &networkingv1alpha3.TrafficPolicy{}
	if r := s.Resilience; r != nil {
		var err error
		if policy.ConnectionPool, err = connectionPool(r, svcPath+".resilience"); err != nil {
			return translate.Object{}, err
		}
		if policy.OutlierDetection, err = outlierDetection(r.OutlierDetection, svcPath+".resilience.outlierDetection"); err != nil {
			return translate.Object{}, err
		}
		policy.LoadBalancer = loadBalancer(r.LoadBalancer)
	}
	budget, err := retryBudgetPolicy(s, svcPath, gaps)
	if err != nil {
		return translate.Object{}, err
	}
	policy.RetryBudget = budget
	if policy.ConnectionPool != nil || policy.OutlierDetection != nil || policy.LoadBalancer != nil || policy.RetryBudget != nil {
		dr.Spec.TrafficPolicy = policy
	}
	return object(dr)
}

// connectionPool merges the circuit breaker's limits and the connection
// pool's settings: Istio keeps both in trafficPolicy.connectionPool.
func connectionPool(r *pattern.Resilience, path string) (*networkingv1alpha3.ConnectionPoolSettings, error) {
	if r.CircuitBreaker == nil && r.ConnectionPool == nil {
		return nil, nil
	}
	tcp := &networkingv1alpha3.ConnectionPoolSettings_TCPSettings{}
	http := &networkingv1alpha3.ConnectionPoolSettings_HTTPSettings{}
	if cb := r.CircuitBreaker; cb != nil {
		tcp.MaxConnections = cb.MaxConnections
		http.Http1MaxPendingRequests = cb.MaxPendingRequests
		http.Http2MaxRequests = cb.MaxRequests
		http.MaxRetries = cb.MaxRetries
	}
	if cp := r.ConnectionPool; cp != nil {
		if cp.ConnectTimeout != "" {
			d, err := duration(path+".connectionPool.connectTimeout", cp.ConnectTimeout)
			if err != nil {
				return nil, err
			}
			tcp.ConnectTimeout = d
		}
		if cp.IdleTimeout != "" {
			d, err := duration(path+".connectionPool.idleTimeout", cp.IdleTimeout)
			if err != nil {
				return nil, err
			}
			http.IdleTimeout = d
		}
		http.MaxRequestsPerConnection = cp.MaxRequestsPerConnection
	}
	out := &networkingv1alpha3.ConnectionPoolSettings{}
	if tcp.MaxConnections != 0 || tcp.ConnectTimeout != nil {
		out.Tcp = tcp
	}
	if http.Http1MaxPendingRequests != 0 || http.Http2MaxRequests != 0 || http.MaxRetries != 0 ||
		http.IdleTimeout != nil || http.MaxRequestsPerConnection != 0 {
		out.Http = http
	}
	return out, nil
}

func outlierDetection(o *pattern.OutlierDetection, path string) (*networkingv1alpha3.OutlierDetection, error) {
	if o == nil {
		return nil, nil
	}
	out := &networkingv1alpha3.OutlierDetection{
		Consecutive_5XxErrors: wrapperspb.UInt32(uint32(max(o.ConsecutiveErrors, 0))),
		MaxEjectionPercent:    o.MaxEjectionPercent,
	}
	if o.Interval != "" {
		d, err := duration(path+".interval", o.Interval)
		if err != nil {
			return nil, err
		}
		out.Interval = d
	}
	if o.BaseEjectionTime != "" {
		d, err := duration(path+".baseEjectionTime", o.BaseEjectionTime)
		if err != nil {
			return nil, err
		}
		out.BaseEjectionTime = d
	}
	return out, nil
}

func loadBalancer(lb *pattern.LoadBalancer) *networkingv1alpha3.LoadBalancerSettings {
	if lb == nil {
		return nil
	}
	simple := func(alg networkingv1alpha3.LoadBalancerSettings_SimpleLB) *networkingv1alpha3.LoadBalancerSettings {
		return &networkingv1alpha3.LoadBalancerSettings{LbPolicy: &networkingv1alpha3.LoadBalancerSettings_Simple{Simple: alg}}
	}
	switch lb.Algorithm {
	case pattern.LBLeastRequest:
		return simple(networkingv1alpha3.LoadBalancerSettings_LEAST_REQUEST)
	case pattern.LBRandom:
		return simple(networkingv1alpha3.LoadBalancerSettings_RANDOM)
	case pattern.LBConsistentHash:
		hash := &networkingv1alpha3.LoadBalancerSettings_ConsistentHashLB{}
		if lb.HashHeader != "" {
			hash.HashKey = &networkingv1alpha3.LoadBalancerSettings_ConsistentHashLB_HttpHeaderName{HttpHeaderName: lb.HashHeader}
		} else {
			// Istio needs a hash key; the client's address is the one
			// every request has.
			hash.HashKey = &networkingv1alpha3.LoadBalancerSettings_ConsistentHashLB_UseSourceIp{UseSourceIp: true}
		}
		return &networkingv1alpha3.LoadBalancerSettings{LbPolicy: &networkingv1alpha3.LoadBalancerSettings_ConsistentHash{ConsistentHash: hash}}
	default:
		return simple(networkingv1alpha3.LoadBalancerSettings_ROUND_ROBIN)
	}
}

// retryBudgetPolicy maps Linkerd's retry budget onto Envoy's, which Istio
// sets per destination: the first route's budget is the service's, and a
// different one on a later route cannot be kept.
func retryBudgetPolicy(s *pattern.Service, svcPath string, gaps *translate.Gaps) (*networkingv1alpha3.TrafficPolicy_RetryBudget, error) {
	first := retryBudget(s)
	if first == nil {
		return nil, nil
	}
	out := &networkingv1alpha3.TrafficPolicy_RetryBudget{Percent: wrapperspb.Double(first.RetryRatio * 100)}
	for j, r := range s.Traffic.Routes {
		if r.Retries == nil || r.Retries.Budget == nil {
			continue
		}
		path := fmt.Sprintf("%s.traffic.routes[%d].retries.budget", svcPath, j)
		b := r.Retries.Budget
		if b != first {
			if *b != *first {
				gaps.Add(pattern.FeatureRetryBudget, path,
					"Istio keeps one retry budget per service (DestinationRule trafficPolicy.retryBudget); it differs from the first route's")
			}
			continue
		}
		if b.MinRetriesPerSecond != 0 {
			gaps.Add(pattern.FeatureRetryBudget, path+".minRetriesPerSecond",
				"Envoy's minRetryConcurrency bounds concurrent retries, not retries per second")
		}
		if b.TTL != "" {
			d, err := duration(path+".ttl", b.TTL)
			if err != nil {
				return nil, err
			}
			out.BudgetInterval = d
		}
	}
	return out, nil
}
