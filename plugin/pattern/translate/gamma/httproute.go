package gamma

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// sectionName is Gateway API's rule name syntax; pattern route names that
// do not fit are left off (they only label the rule).
var sectionName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// httpRoutes renders the service's routes. A backendRef to a Service must
// name a port, so the routes need the service's HTTP ports: with one, a
// route whose parentRef has no port (it covers the whole Service, the
// form every GAMMA implementation supports); with several, one route per
// port, its parentRef and backendRefs on that port.
func httpRoutes(p *pattern.Pattern, s *pattern.Service, svcPath string, gaps *translate.Gaps) ([]translate.Object, error) {
	var ports []pattern.Port
	for _, port := range s.Ports {
		if port.Protocol != "TCP" {
			ports = append(ports, port)
		}
	}
	if len(ports) == 0 {
		return nil, fmt.Errorf("%s.ports: gamma needs the HTTP ports of %s: an HTTPRoute backendRef to a Service names its port", svcPath, s.Name)
	}
	var out []translate.Object
	for k, port := range ports {
		name := s.Name
		parent := gatewayv1.ParentReference{
			Group: ptr(gatewayv1.Group("")),
			Kind:  ptr(gatewayv1.Kind("Service")),
			Name:  gatewayv1.ObjectName(s.Name),
		}
		if len(ports) > 1 {
			parent.Port = ptr(port.Port)
			name = s.Name + "-" + portName(port)
		}
		route := &gatewayv1.HTTPRoute{
			TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "HTTPRoute"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: p.Metadata.Namespace},
		}
		route.Spec.ParentRefs = []gatewayv1.ParentReference{parent}
		for j := range s.Traffic.Routes {
			// Gaps are the same for every port: record them once.
			g := gaps
			if k > 0 {
				g = &translate.Gaps{}
			}
			rule, ok, err := httpRouteRule(s, &s.Traffic.Routes[j], port.Port, fmt.Sprintf("%s.traffic.routes[%d]", svcPath, j), g)
			if err != nil {
				return nil, err
			}
			if ok {
				route.Spec.Rules = append(route.Spec.Rules, rule)
			}
		}
		if len(route.Spec.Rules) == 0 {
			// Without rules the API defaults one that matches everything
			// and has no backend.
			continue
		}
		u, err := translate.ToUnstructured(route)
		if err != nil {
			return nil, err
		}
		out = append(out, translate.Object{Unstructured: u})
	}
	return out, nil
}

func portName(port pattern.Port) string {
	if port.Name != "" {
		return port.Name
	}
	return strconv.Itoa(int(port.Port))
}

// httpRouteRule renders one route; ok is false when its match cannot be
// expressed: leaving out a condition would widen the match and send other
// requests to the route's backends, so the route is left out instead.
func httpRouteRule(s *pattern.Service, r *pattern.Route, port int32, path string, gaps *translate.Gaps) (rule gatewayv1.HTTPRouteRule, ok bool, err error) {
	if r.Name != "" && len(r.Name) <= 253 && sectionName.MatchString(r.Name) {
		rule.Name = ptr(gatewayv1.SectionName(r.Name))
	}
	if m := r.Match; m != nil && (m.Path != nil || len(m.Headers) > 0) {
		hm, ok := match(m, path+".match", gaps)
		if !ok {
			return rule, false, nil
		}
		rule.Matches = []gatewayv1.HTTPRouteMatch{hm}
	}
	if len(r.Split) == 0 {
		rule.BackendRefs = []gatewayv1.HTTPBackendRef{backendRef(s.Name, port, nil)}
	}
	for k, b := range r.Split {
		v := s.Version(b.Version)
		if v == nil {
			return rule, false, fmt.Errorf("%s.split[%d]: service %s has no version %q", path, k, s.Name, b.Version)
		}
		rule.BackendRefs = append(rule.BackendRefs, backendRef(s.VersionServiceName(v), port, ptr(b.Weight)))
	}
	if r.Timeout != "" {
		d, err := duration(path+".timeout", r.Timeout)
		if err != nil {
			return rule, false, err
		}
		rule.Timeouts = &gatewayv1.HTTPRouteTimeouts{Request: &d}
	}
	if r.Mirror != nil {
		v := s.Version(r.Mirror.Version)
		if v == nil {
			return rule, false, fmt.Errorf("%s.mirror.version: service %s has no version %q", path, s.Name, r.Mirror.Version)
		}
		mirror := &gatewayv1.HTTPRequestMirrorFilter{BackendRef: backendRef(s.VersionServiceName(v), port, nil).BackendObjectReference}
		setMirrorShare(mirror, r.Mirror.Percent)
		rule.Filters = append(rule.Filters, gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestMirror, RequestMirror: mirror})
	}
	return rule, true, nil
}

func match(m *pattern.Match, path string, gaps *translate.Gaps) (gatewayv1.HTTPRouteMatch, bool) {
	var out gatewayv1.HTTPRouteMatch
	ok := true
	if pm := m.Path; pm != nil {
		switch {
		case pm.Exact != "":
			out.Path = &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchExact), Value: ptr(pm.Exact)}
		case pm.Prefix != "":
			out.Path = &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchPathPrefix), Value: ptr(pm.Prefix)}
		default:
			out.Path = &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchRegularExpression), Value: ptr(pm.Regex)}
		}
	}
	names := make([]string, 0, len(m.Headers))
	for name := range m.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		h := m.Headers[name]
		hm := gatewayv1.HTTPHeaderMatch{Name: gatewayv1.HTTPHeaderName(name)}
		switch {
		case h.Prefix != "":
			gaps.Add(pattern.FeatureHeaderMatch, path+".headers."+name,
				"Gateway API header matches are Exact or RegularExpression; write the prefix as a regex (the route is left out)")
			ok = false
			continue
		case h.Regex != "":
			hm.Type, hm.Value = ptr(gatewayv1.HeaderMatchRegularExpression), h.Regex
		default:
			hm.Type, hm.Value = ptr(gatewayv1.HeaderMatchExact), h.Exact
		}
		out.Headers = append(out.Headers, hm)
	}
	return out, ok
}

// backendRef names a Service port; kind and group default to Service.
func backendRef(service string, port int32, weight *int32) gatewayv1.HTTPBackendRef {
	return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(service), Port: ptr(port)},
		Weight:                 weight,
	}}
}

// setMirrorShare sets the mirrored share: none for 100 (the default), a
// whole percent, or a fraction for a percent with decimals.
func setMirrorShare(m *gatewayv1.HTTPRequestMirrorFilter, percent float64) {
	if percent <= 0 || percent >= 100 {
		return
	}
	if percent == float64(int32(percent)) {
		m.Percent = ptr(int32(percent))
		return
	}
	// Parts per million keep four decimals of the percent.
	num, den := int32(percent*10000+0.5), int32(1000000)
	g := gcd(num, den)
	m.Fraction = &gatewayv1.Fraction{Numerator: num / g, Denominator: ptr(den / g)}
}

func gcd(a, b int32) int32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func ptr[T any](v T) *T { return &v }
