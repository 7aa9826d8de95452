package translate

import (
	"fmt"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
)

// CheckRouteOrder reports the routes whose order a Gateway API style
// HTTPRoute (GAMMA, Linkerd's policy.linkerd.io HTTPRoute) cannot keep. A
// pattern's routes are tried in order, as Istio does; Gateway API ranks
// the rules of a route by match specificity instead (exact path, then the
// longest prefix, then the most header matches) and uses list order only
// for ties. When a later route would win over an earlier one for requests
// both match, the translation would change where those requests go, so it
// is a gap rather than a silent change.
func CheckRouteOrder(s *pattern.Service, svcPath string, gaps *Gaps) {
	if s.Traffic == nil {
		return
	}
	routes := s.Traffic.Routes
	for j := range routes {
		for i := range j {
			if outranks(routes[j].Match, routes[i].Match) && MayOverlap(routes[i].Match, routes[j].Match) {
				gaps.Add(MatchFeature(routes[j].Match), fmt.Sprintf("%s.traffic.routes[%d]", svcPath, j),
					fmt.Sprintf("Gateway API ranks routes by match specificity, so this route would take requests before routes[%d]; put the more specific route first", i))
				break
			}
		}
	}
}

// specificity is Gateway API's precedence of a match, compared in order.
type specificity struct {
	exactPath  bool
	prefixLen  int
	headerKeys int
}

func specificityOf(m *pattern.Match) specificity {
	var s specificity
	if m == nil {
		return s
	}
	if m.Path != nil {
		s.exactPath = m.Path.Exact != ""
		s.prefixLen = len(m.Path.Prefix)
	}
	s.headerKeys = len(m.Headers)
	return s
}

// outranks reports whether Gateway API would try match a before b.
func outranks(a, b *pattern.Match) bool {
	sa, sb := specificityOf(a), specificityOf(b)
	if sa.exactPath != sb.exactPath {
		return sa.exactPath
	}
	if sa.prefixLen != sb.prefixLen {
		return sa.prefixLen > sb.prefixLen
	}
	return sa.headerKeys > sb.headerKeys
}

// SameSpecificity reports whether Gateway API ranks two matches equally,
// leaving their order to creation time when they are in different routes.
func SameSpecificity(a, b *pattern.Match) bool {
	return specificityOf(a) == specificityOf(b)
}

// MayOverlap is false only when no request can match both: different
// exact paths, prefixes neither of which extends the other, or the same
// header required to be two different exact values.
func MayOverlap(a, b *pattern.Match) bool {
	if a == nil || b == nil {
		return true
	}
	if a.Path != nil && b.Path != nil && !pathsOverlap(*a.Path, *b.Path) {
		return false
	}
	for name, ha := range a.Headers {
		if hb, ok := b.Headers[name]; ok && ha.Exact != "" && hb.Exact != "" && ha.Exact != hb.Exact {
			return false
		}
	}
	return true
}

func pathsOverlap(a, b pattern.StringMatch) bool {
	switch {
	case a.Regex != "" || b.Regex != "":
		return true
	case a.Exact != "" && b.Exact != "":
		return a.Exact == b.Exact
	case a.Exact != "":
		return strings.HasPrefix(a.Exact, b.Prefix)
	case b.Exact != "":
		return strings.HasPrefix(b.Exact, a.Prefix)
	default:
		return strings.HasPrefix(a.Prefix, b.Prefix) || strings.HasPrefix(b.Prefix, a.Prefix)
	}
}

// MatchFeature is the feature a route's match uses, for gaps about it.
func MatchFeature(m *pattern.Match) pattern.Feature {
	if m != nil && m.Path != nil {
		return pattern.FeaturePathMatch
	}
	return pattern.FeatureHeaderMatch
}
