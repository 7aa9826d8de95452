package linkerd

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// accessPolicies are the Server accessPolicy values for the mTLS modes.
var accessPolicies = map[string]string{
	pattern.MTLSStrict:     "all-authenticated",
	pattern.MTLSPermissive: "all-unauthenticated",
}

// Gateway API limits of an HTTPRoute: matches per rule, rules per route.
const (
	maxMatches = 8
	maxRules   = 16
)

// security renders a service's mTLS mode and allow rules: a Server per
// port, and per allow rule a MeshTLSAuthentication of its sources, an
// AuthorizationPolicy and, for methods and paths, an HTTPRoute whose
// parents are the Servers.
func security(p *pattern.Pattern, s *pattern.Service, svcPath string, gaps *translate.Gaps) ([]translate.Object, error) {
	sec := s.Security
	if sec.MTLS == pattern.MTLSDisable {
		gaps.Add(pattern.FeatureMTLS, svcPath+".security.mtls", "meshed pods always use mTLS between each other")
	}
	access := accessPolicies[sec.MTLS]
	if len(sec.Allow) > 0 {
		access = "deny" // only what an AuthorizationPolicy allows
	}
	if access == "" {
		return nil, nil
	}
	if len(s.Ports) == 0 {
		field := "mtls"
		if len(sec.Allow) > 0 {
			field = "allow"
		}
		return nil, fmt.Errorf("%s.ports: Linkerd Servers select a pod port, so %s.security.%s needs the ports of %s", svcPath, svcPath, field, s.Name)
	}
	var out, servers []translate.Object
	for _, port := range s.Ports {
		servers = append(servers, server(p, s, port, access))
	}
	out = append(out, servers...)
	withRoutes := false
	for _, rule := range sec.Allow {
		withRoutes = withRoutes || len(rule.Methods) > 0 || len(rule.Paths) > 0
	}
	for k := range sec.Allow {
		objs, err := allowRule(p, s, fmt.Sprintf("%s.security.allow[%d]", svcPath, k), k, servers, withRoutes)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func serverName(s *pattern.Service, port pattern.Port) string {
	if port.Name != "" {
		return s.Name + "-" + port.Name
	}
	return s.Name + "-" + strconv.Itoa(int(port.Port))
}

func server(p *pattern.Pattern, s *pattern.Service, port pattern.Port, access string) translate.Object {
	labels := map[string]any{}
	for k, v := range s.PodSelector() {
		labels[k] = v
	}
	spec := map[string]any{
		"podSelector":  map[string]any{"matchLabels": labels},
		"port":         targetPort(port),
		"accessPolicy": access,
	}
	switch strings.ToUpper(port.Protocol) {
	case "HTTP2":
		spec["proxyProtocol"] = "HTTP/2"
	case "GRPC":
		spec["proxyProtocol"] = "gRPC"
	}
	return object(apiServer, "Server", p.Metadata.Namespace, serverName(s, port), spec)
}

// allowRule renders one allow rule. When any rule of the service names
// methods or paths, every rule gets an HTTPRoute (a rule without them one
// matching every path): once a Server has HTTPRoutes, requests that match
// none of them are refused.
func allowRule(p *pattern.Pattern, s *pattern.Service, path string, k int, servers []translate.Object, withRoutes bool) ([]translate.Object, error) {
	rule := s.Security.Allow[k]
	ns := p.Metadata.Namespace
	name := fmt.Sprintf("%s-allow-%d", s.Name, k)
	var identities []any
	for _, sa := range rule.From.ServiceAccounts {
		saNS, saName := ns, sa
		if before, after, ok := strings.Cut(sa, "/"); ok {
			saNS, saName = before, after
		}
		identities = append(identities, map[string]any{"kind": "ServiceAccount", "name": saName, "namespace": saNS})
	}
	for _, n := range rule.From.Namespaces {
		identities = append(identities, map[string]any{"kind": "Namespace", "name": n})
	}
	if len(identities) == 0 {
		return nil, fmt.Errorf("%s.from: name at least one service account or namespace", path)
	}
	out := []translate.Object{object(apiAuthn, "MeshTLSAuthentication", ns, name, map[string]any{"identityRefs": identities})}
	authn := []any{map[string]any{"group": policyGroup, "kind": "MeshTLSAuthentication", "name": name}}
	if withRoutes {
		route, err := inboundRoute(ns, name, path, rule, servers)
		if err != nil {
			return nil, err
		}
		out = append(out, route, object(apiAuthn, "AuthorizationPolicy", ns, name, map[string]any{
			"targetRef":                  map[string]any{"group": policyGroup, "kind": "HTTPRoute", "name": name},
			"requiredAuthenticationRefs": authn,
		}))
		return out, nil
	}
	for _, srv := range servers {
		policyName := name
		if len(servers) > 1 {
			policyName = srv.GetName() + "-allow-" + strconv.Itoa(k)
		}
		out = append(out, object(apiAuthn, "AuthorizationPolicy", ns, policyName, map[string]any{
			"targetRef":                  map[string]any{"group": policyGroup, "kind": "Server", "name": srv.GetName()},
			"requiredAuthenticationRefs": authn,
		}))
	}
	return out, nil
}

// inboundRoute matches a rule's methods and paths on the service's
// Servers: every path with every method, eight matches to a rule.
func inboundRoute(ns, name, path string, rule pattern.AllowRule, servers []translate.Object) (translate.Object, error) {
	var parents []any
	for _, srv := range servers {
		parents = append(parents, map[string]any{"group": policyGroup, "kind": "Server", "name": srv.GetName()})
	}
	paths := []map[string]any{nil}
	if len(rule.Paths) > 0 {
		paths = nil
		for _, p := range rule.Paths {
			paths = append(paths, pathMatch(p))
		}
	}
	methods := []string{""}
	if len(rule.Methods) > 0 {
		methods = rule.Methods
	}
	var matches []any
	for _, pm := range paths {
		for _, m := range methods {
			match := map[string]any{}
			if pm != nil {
				match["path"] = pm
			}
			if m != "" {
				match["method"] = strings.ToUpper(m)
			}
			if len(match) == 0 {
				match["path"] = map[string]any{"type": "PathPrefix", "value": "/"}
			}
			matches = append(matches, match)
		}
	}
	if len(matches) > maxMatches*maxRules {
		return translate.Object{}, fmt.Errorf("%s: %d method and path combinations are more than one Linkerd HTTPRoute holds (%d)", path, len(matches), maxMatches*maxRules)
	}
	var rules []any
	for start := 0; start < len(matches); start += maxMatches {
		rules = append(rules, map[string]any{"matches": matches[start:min(start+maxMatches, len(matches))]})
	}
	return object(apiHTTPRoute, "HTTPRoute", ns, name, map[string]any{"parentRefs": parents, "rules": rules}), nil
}

// pathMatch is an allow rule path: exact, or a prefix ending in "*",
// matched as a regex because Gateway API prefixes match whole segments
// and the pattern's match characters.
func pathMatch(p string) map[string]any {
	if prefix, ok := strings.CutSuffix(p, "*"); ok {
		return map[string]any{"type": "RegularExpression", "value": "^" + regexp.QuoteMeta(prefix) + ".*$"}
	}
	return map[string]any{"type": "Exact", "value": p}
}
