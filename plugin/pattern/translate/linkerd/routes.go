package linkerd

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Retry annotations of a policy.linkerd.io HTTPRoute (Linkerd 2.16+).
const (
	annotationRetryHTTP    = "retry.linkerd.io/http"
	annotationRetryLimit   = "retry.linkerd.io/limit"
	annotationRetryTimeout = "retry.linkerd.io/timeout"
)

// outboundRoutes renders a service's routes as HTTPRoutes whose parent is
// the Service. Retries are annotations of a whole HTTPRoute, so when the
// routes differ in retries each route gets an HTTPRoute of its own;
// otherwise one HTTPRoute holds them all, in order.
func outboundRoutes(p *pattern.Pattern, s *pattern.Service, svcPath string, gaps *translate.Gaps) ([]translate.Object, error) {
	routes := s.Traffic.Routes
	translate.CheckRouteOrder(s, svcPath, gaps)
	groups := [][]int{make([]int, len(routes))}
	names := []string{s.Name}
	for j := range routes {
		groups[0][j] = j
	}
	if !sameRetries(routes) {
		groups, names = nil, nil
		for j := range routes {
			groups = append(groups, []int{j})
			names = append(names, routeName(s, j))
		}
		checkCrossRouteOrder(routes, svcPath, gaps)
	}
	ports, err := routePorts(s, svcPath)
	if err != nil {
		return nil, err
	}
	var out []translate.Object
	for g, group := range groups {
		for _, port := range ports {
			name := names[g]
			if len(ports) > 1 {
				name = fmt.Sprintf("%s-%d", name, port)
			}
			o, err := httpRoute(p, s, svcPath, name, group, port, gaps)
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// routePorts are the Service ports the HTTPRoutes attach to; 0 stands for
// "no port given" (a version that names its own Service needs none).
func routePorts(s *pattern.Service, svcPath string) ([]int32, error) {
	if len(s.Ports) == 0 {
		return []int32{0}, nil
	}
	var ports []int32
	for _, port := range httpPorts(s) {
		ports = append(ports, port.Port)
	}
	if len(ports) == 0 {
		return nil, fmt.Errorf("%s.ports: Linkerd routes HTTP traffic, and every port of %s is TCP", svcPath, s.Name)
	}
	return ports, nil
}

func sameRetries(routes []pattern.Route) bool {
	for j := 1; j < len(routes); j++ {
		if !reflect.DeepEqual(routes[j].Retries, routes[0].Retries) {
			return false
		}
	}
	return true
}

// httpRoute renders the routes of one group for one Service port.
func httpRoute(p *pattern.Pattern, s *pattern.Service, svcPath, name string, group []int, port int32, gaps *translate.Gaps) (translate.Object, error) {
	parent := map[string]any{"group": "core", "kind": "Service", "name": s.Name}
	if port != 0 {
		parent["port"] = int64(port)
	}
	var rules []any
	for _, j := range group {
		rule, err := routeRule(s, fmt.Sprintf("%s.traffic.routes[%d]", svcPath, j), &s.Traffic.Routes[j], port)
		if err != nil {
			return translate.Object{}, err
		}
		rules = append(rules, rule)
	}
	o := object(apiHTTPRoute, "HTTPRoute", p.Metadata.Namespace, name, map[string]any{
		"parentRefs": []any{parent},
		"rules":      rules,
	})
	j := group[0]
	if r := s.Traffic.Routes[j].Retries; r != nil {
		annotations, err := retryAnnotations(r, fmt.Sprintf("%s.traffic.routes[%d].retries", svcPath, j), gaps)
		if err != nil {
			return translate.Object{}, err
		}
		o.SetAnnotations(annotations)
	}
	return o, nil
}

func routeRule(s *pattern.Service, path string, r *pattern.Route, port int32) (map[string]any, error) {
	rule := map[string]any{}
	if r.Match != nil && (r.Match.Path != nil || len(r.Match.Headers) > 0) {
		rule["matches"] = []any{httpMatch(r.Match)}
	}
	backend := func(service string) map[string]any {
		ref := map[string]any{"name": service}
		if port != 0 {
			ref["port"] = int64(port)
		}
		return ref
	}
	var backends []any
	for k, b := range r.Split {
		v := s.Version(b.Version)
		if v == nil {
			return nil, fmt.Errorf("%s.split[%d]: service %s has no version %q", path, k, s.Name, b.Version)
		}
		ref := backend(s.VersionServiceName(v))
		ref["weight"] = int64(b.Weight)
		backends = append(backends, ref)
	}
	if len(r.Split) == 0 {
		backends = append(backends, backend(s.Name))
	}
	rule["backendRefs"] = backends
	if r.Timeout != "" {
		d, err := gatewayDuration(r.Timeout, path+".timeout")
		if err != nil {
			return nil, err
		}
		rule["timeouts"] = map[string]any{"request": d}
	}
	return rule, nil
}

// httpMatch is a Gateway API match. Headers are sorted by name so that
// renders are stable; a prefix becomes an anchored regex, as Gateway API
// has no prefix header match.
func httpMatch(m *pattern.Match) map[string]any {
	match := map[string]any{}
	if pm := m.Path; pm != nil {
		switch {
		case pm.Exact != "":
			match["path"] = map[string]any{"type": "Exact", "value": pm.Exact}
		case pm.Prefix != "":
			match["path"] = map[string]any{"type": "PathPrefix", "value": pm.Prefix}
		default:
			match["path"] = map[string]any{"type": "RegularExpression", "value": anchored(pm.Regex)}
		}
	}
	var headers []any
	for _, name := range slices.Sorted(maps.Keys(m.Headers)) {
		hm := m.Headers[name]
		if hm.Exact != "" {
			headers = append(headers, map[string]any{"type": "Exact", "name": name, "value": hm.Exact})
			continue
		}
		headers = append(headers, map[string]any{"type": "RegularExpression", "name": name, "value": stringMatchRegex(hm)})
	}
	if headers != nil {
		match["headers"] = headers
	}
	return match
}

var statusCodes = regexp.MustCompile(`^[1-5][0-9][0-9](-[1-5][0-9][0-9])?$`)

// retryAnnotations renders retries as Linkerd's retry annotations. Linkerd
// retries on response status only: the Envoy conditions about connections
// and streams have no equivalent.
func retryAnnotations(r *pattern.Retries, path string, gaps *translate.Gaps) (map[string]string, error) {
	var conditions []string
	for k, on := range r.On {
		switch {
		case on == "5xx" || on == "gateway-error" || statusCodes.MatchString(on):
			conditions = append(conditions, on)
		case on == "retriable-4xx":
			conditions = append(conditions, "409") // Envoy's retriable-4xx is 409 only
		default:
			gaps.Add(pattern.FeatureRetries, fmt.Sprintf("%s.on[%d]", path, k),
				fmt.Sprintf("Linkerd retries on HTTP response status only (5xx, gateway-error, codes, ranges), not on %q", on))
		}
	}
	if len(r.On) == 0 {
		conditions = []string{"5xx"}
	}
	annotations := map[string]string{}
	if len(conditions) > 0 {
		annotations[annotationRetryHTTP] = strings.Join(slices.Compact(conditions), ",")
	}
	if r.Attempts > 0 {
		annotations[annotationRetryLimit] = strconv.Itoa(int(r.Attempts))
	}
	if r.PerTryTimeout != "" {
		d, err := gatewayDuration(r.PerTryTimeout, path+".perTryTimeout")
		if err != nil {
			return nil, err
		}
		annotations[annotationRetryTimeout] = d
	}
	return annotations, nil
}

// checkCrossRouteOrder reports routes that landed in different HTTPRoutes
// with the same specificity: Linkerd, like Gateway API, orders equally
// specific rules of different HTTPRoutes by creation time and name, not by
// the pattern's order.
func checkCrossRouteOrder(routes []pattern.Route, svcPath string, gaps *translate.Gaps) {
	for j := range routes {
		for i := range j {
			if translate.SameSpecificity(routes[i].Match, routes[j].Match) && translate.MayOverlap(routes[i].Match, routes[j].Match) {
				gaps.Add(pattern.FeatureRetries, fmt.Sprintf("%s.traffic.routes[%d].retries", svcPath, j),
					fmt.Sprintf("retries are per HTTPRoute, so routes with different retries get HTTPRoutes of their own, and Linkerd orders equally specific rules of different HTTPRoutes by creation time, not by the pattern's order; give routes[%d] and routes[%d] the same retries or make routes[%d] more specific", i, j, i))
				break
			}
		}
	}
}
