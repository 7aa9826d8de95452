package linkerd

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Linkerd's defaults for the retry budget fields the pattern may omit;
// the ServiceProfile CRD requires all three.
const (
	defaultMinRetriesPerSecond = 10
	defaultBudgetTTL           = "10s"
)

// needsProfile: retry budgets exist only in ServiceProfiles.
func needsProfile(s *pattern.Service) bool {
	if s.Traffic == nil {
		return false
	}
	for _, r := range s.Traffic.Routes {
		if r.Retries != nil && r.Retries.Budget != nil {
			return true
		}
	}
	return false
}

// serviceProfile renders all of a service's routing as a ServiceProfile.
// Linkerd gives a ServiceProfile precedence over HTTPRoutes, so once a
// budget forces one, every route goes there. Its routes are tried in
// order, like the pattern's; what it cannot hold (header matches, a split
// per route, retry conditions other than 5xx) are gaps.
func serviceProfile(p *pattern.Pattern, s *pattern.Service, svcPath string, gaps *translate.Gaps) (translate.Object, error) {
	spec := map[string]any{}
	var routes []any
	var budget *pattern.RetryBudget
	split, splitAt := []pattern.Backend(nil), -1
	for j := range s.Traffic.Routes {
		r := &s.Traffic.Routes[j]
		path := fmt.Sprintf("%s.traffic.routes[%d]", svcPath, j)
		if len(r.Split) > 0 && splitAt < 0 {
			split, splitAt = r.Split, j
		}
		routes = append(routes, profileRoute(r, j, path, gaps))
		if r.Retries != nil && r.Retries.Budget != nil {
			switch {
			case budget == nil:
				budget = r.Retries.Budget
			case !reflect.DeepEqual(budget, r.Retries.Budget):
				gaps.Add(pattern.FeatureRetryBudget, path+".retries.budget", "a ServiceProfile has one retry budget for the whole service")
			}
		}
	}
	spec["routes"] = routes
	if budget != nil {
		b := map[string]any{"retryRatio": budget.RetryRatio, "minRetriesPerSecond": int64(defaultMinRetriesPerSecond), "ttl": defaultBudgetTTL}
		if budget.MinRetriesPerSecond > 0 {
			b["minRetriesPerSecond"] = int64(budget.MinRetriesPerSecond)
		}
		if budget.TTL != "" {
			b["ttl"] = budget.TTL
		}
		spec["retryBudget"] = b
	}
	if splitAt >= 0 {
		for j, r := range s.Traffic.Routes {
			if j != splitAt && !slices.Equal(r.Split, split) {
				gaps.Add(pattern.FeatureSplit, fmt.Sprintf("%s.traffic.routes[%d]", svcPath, j),
					fmt.Sprintf("a ServiceProfile splits all of the service's traffic (dstOverrides), as routes[%d] asks; this route would be split the same way", splitAt))
			}
		}
		overrides, err := dstOverrides(p, s, fmt.Sprintf("%s.traffic.routes[%d]", svcPath, splitAt), split, gaps)
		if err != nil {
			return translate.Object{}, err
		}
		spec["dstOverrides"] = overrides
	}
	return object(apiProfile, "ServiceProfile", p.Metadata.Namespace, fqdn(p, s.Name), spec), nil
}

func profileRoute(r *pattern.Route, j int, path string, gaps *translate.Gaps) map[string]any {
	name := r.Name
	if name == "" {
		name = fmt.Sprintf("route-%d", j)
	}
	condition := map[string]any{"pathRegex": ".*"}
	if r.Match != nil && r.Match.Path != nil {
		condition["pathRegex"] = stringMatchRegex(*r.Match.Path)
	}
	if r.Match != nil && len(r.Match.Headers) > 0 {
		gaps.Add(pattern.FeatureHeaderMatch, path+".match.headers",
			"the service needs a ServiceProfile for its retry budget, and ServiceProfile routes match on path and method only")
	}
	route := map[string]any{"name": name, "condition": condition}
	if r.Timeout != "" {
		route["timeout"] = r.Timeout
	}
	if rt := r.Retries; rt != nil {
		route["isRetryable"] = true
		for k, on := range rt.On {
			if on != "5xx" {
				gaps.Add(pattern.FeatureRetries, fmt.Sprintf("%s.retries.on[%d]", path, k),
					fmt.Sprintf("a ServiceProfile retries the responses its response classes call failures (5xx), not %q", on))
			}
		}
		if rt.PerTryTimeout != "" {
			gaps.Add(pattern.FeatureRetries, path+".retries.perTryTimeout", "ServiceProfile retries have no per-try timeout")
		}
	}
	return route
}

// dstOverrides split the service's traffic between its versions' Services.
// An authority names one port, so a service with several ports is a gap.
func dstOverrides(p *pattern.Pattern, s *pattern.Service, path string, split []pattern.Backend, gaps *translate.Gaps) ([]any, error) {
	if len(s.Ports) > 1 {
		gaps.Add(pattern.FeatureSplit, path+".split", "ServiceProfile dstOverrides name one port, and the service has several")
	}
	var out []any
	for k, b := range split {
		v := s.Version(b.Version)
		if v == nil {
			return nil, fmt.Errorf("%s.split[%d]: service %s has no version %q", path, k, s.Name, b.Version)
		}
		authority := fqdn(p, s.VersionServiceName(v))
		if len(s.Ports) > 0 {
			authority = fmt.Sprintf("%s:%d", authority, s.Ports[0].Port)
		}
		out = append(out, map[string]any{"authority": authority, "weight": int64(b.Weight)})
	}
	return out, nil
}
