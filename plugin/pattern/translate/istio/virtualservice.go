package istio

import (
	"fmt"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// virtualService routes the service's requests, keeping the pattern's
// route order: Istio, like the pattern, takes the first matching route.
func virtualService(p *pattern.Pattern, s *pattern.Service, svcPath string) (translate.Object, error) {
	vs := &networkingv1.VirtualService{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.istio.io/v1", Kind: "VirtualService"},
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: p.Metadata.Namespace},
	}
	vs.Spec.Hosts = []string{s.Name}
	for j := range s.Traffic.Routes {
		route, err := httpRoute(s, &s.Traffic.Routes[j], fmt.Sprintf("%s.traffic.routes[%d]", svcPath, j))
		if err != nil {
			return translate.Object{}, err
		}
		vs.Spec.Http = append(vs.Spec.Http, route)
	}
	return object(vs)
}

func httpRoute(s *pattern.Service, r *pattern.Route, path string) (*networkingv1alpha3.HTTPRoute, error) {
	out := &networkingv1alpha3.HTTPRoute{Name: r.Name}
	if m := r.Match; m != nil && (m.Path != nil || len(m.Headers) > 0) {
		match := &networkingv1alpha3.HTTPMatchRequest{}
		if m.Path != nil {
			match.Uri = stringMatch(*m.Path)
		}
		if len(m.Headers) > 0 {
			match.Headers = map[string]*networkingv1alpha3.StringMatch{}
			for name, h := range m.Headers {
				// Envoy matches header names in lower case; Istio rejects
				// upper-case names.
				match.Headers[strings.ToLower(name)] = stringMatch(h)
			}
		}
		out.Match = []*networkingv1alpha3.HTTPMatchRequest{match}
	}
	if len(r.Split) == 0 {
		out.Route = []*networkingv1alpha3.HTTPRouteDestination{{Destination: &networkingv1alpha3.Destination{Host: s.Name}}}
	}
	for k, b := range r.Split {
		if s.Version(b.Version) == nil {
			return nil, fmt.Errorf("%s.split[%d]: service %s has no version %q", path, k, s.Name, b.Version)
		}
		out.Route = append(out.Route, &networkingv1alpha3.HTTPRouteDestination{
			Destination: &networkingv1alpha3.Destination{Host: s.Name, Subset: b.Version},
			Weight:      b.Weight,
		})
	}
	if r.Timeout != "" {
		d, err := duration(path+".timeout", r.Timeout)
		if err != nil {
			return nil, err
		}
		out.Timeout = d
	}
	if r.Retries != nil {
		retries := &networkingv1alpha3.HTTPRetry{Attempts: r.Retries.Attempts, RetryOn: strings.Join(r.Retries.On, ",")}
		if r.Retries.PerTryTimeout != "" {
			d, err := duration(path+".retries.perTryTimeout", r.Retries.PerTryTimeout)
			if err != nil {
				return nil, err
			}
			retries.PerTryTimeout = d
		}
		out.Retries = retries
	}
	if r.Fault != nil {
		fault, err := faultInjection(r.Fault, path+".fault")
		if err != nil {
			return nil, err
		}
		out.Fault = fault
	}
	if r.Mirror != nil {
		if s.Version(r.Mirror.Version) == nil {
			return nil, fmt.Errorf("%s.mirror.version: service %s has no version %q", path, s.Name, r.Mirror.Version)
		}
		out.Mirror = &networkingv1alpha3.Destination{Host: s.Name, Subset: r.Mirror.Version}
		// Absent, Istio mirrors everything, as the pattern's default does.
		if r.Mirror.Percent > 0 {
			out.MirrorPercentage = &networkingv1alpha3.Percent{Value: r.Mirror.Percent}
		}
	}
	return out, nil
}

func stringMatch(m pattern.StringMatch) *networkingv1alpha3.StringMatch {
	switch {
	case m.Prefix != "":
		return &networkingv1alpha3.StringMatch{MatchType: &networkingv1alpha3.StringMatch_Prefix{Prefix: m.Prefix}}
	case m.Regex != "":
		return &networkingv1alpha3.StringMatch{MatchType: &networkingv1alpha3.StringMatch_Regex{Regex: m.Regex}}
	default:
		return &networkingv1alpha3.StringMatch{MatchType: &networkingv1alpha3.StringMatch_Exact{Exact: m.Exact}}
	}
}

func faultInjection(f *pattern.Fault, path string) (*networkingv1alpha3.HTTPFaultInjection, error) {
	out := &networkingv1alpha3.HTTPFaultInjection{}
	if f.Delay != nil {
		d, err := duration(path+".delay.fixed", f.Delay.Fixed)
		if err != nil {
			return nil, err
		}
		out.Delay = &networkingv1alpha3.HTTPFaultInjection_Delay{
			HttpDelayType: &networkingv1alpha3.HTTPFaultInjection_Delay_FixedDelay{FixedDelay: d},
			Percentage:    &networkingv1alpha3.Percent{Value: f.Delay.Percent},
		}
	}
	if f.Abort != nil {
		out.Abort = &networkingv1alpha3.HTTPFaultInjection_Abort{
			ErrorType:  &networkingv1alpha3.HTTPFaultInjection_Abort_HttpStatus{HttpStatus: f.Abort.HTTPStatus},
			Percentage: &networkingv1alpha3.Percent{Value: f.Abort.Percent},
		}
	}
	return out, nil
}
