package smi

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	splitv1alpha4 "github.com/servicemeshinterface/smi-sdk-go/pkg/apis/split/v1alpha4"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// trafficSplits renders one TrafficSplit per route with a split, with an
// HTTPRouteGroup for its match. A route without a split needs nothing:
// the service as a whole is where its requests go anyway.
func trafficSplits(p *pattern.Pattern, s *pattern.Service, svcPath string, gaps *translate.Gaps) ([]translate.Object, error) {
	checkOrder(s, svcPath, gaps)
	var out []translate.Object
	for j := range s.Traffic.Routes {
		r := &s.Traffic.Routes[j]
		if len(r.Split) == 0 {
			continue
		}
		path := fmt.Sprintf("%s.traffic.routes[%d]", svcPath, j)
		name := splitName(s, j)
		split := &splitv1alpha4.TrafficSplit{
			TypeMeta:   metav1.TypeMeta{APIVersion: splitv1alpha4.SchemeGroupVersion.String(), Kind: "TrafficSplit"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: p.Metadata.Namespace},
			Spec:       splitv1alpha4.TrafficSplitSpec{Service: s.Name},
		}
		for k, b := range r.Split {
			v := s.Version(b.Version)
			if v == nil {
				return nil, fmt.Errorf("%s.split[%d]: service %s has no version %q", path, k, s.Name, b.Version)
			}
			split.Spec.Backends = append(split.Spec.Backends, splitv1alpha4.TrafficSplitBackend{Service: s.VersionServiceName(v), Weight: int(b.Weight)})
		}
		if hasMatch(r.Match) {
			out = append(out, routeGroup(p.Metadata.Namespace, name, []map[string]any{routeMatch(r, j)}))
			group := specsGroup
			split.Spec.Matches = []corev1.TypedLocalObjectReference{{APIGroup: &group, Kind: "HTTPRouteGroup", Name: name}}
		}
		u, err := translate.ToUnstructured(split)
		if err != nil {
			return nil, err
		}
		out = append(out, translate.Object{Unstructured: u})
	}
	return out, nil
}

// splitName is <service> for an unnamed route without match (the usual
// canary), else <service>-<route name or index>.
func splitName(s *pattern.Service, j int) string {
	r := s.Traffic.Routes[j]
	switch {
	case r.Name != "":
		return s.Name + "-" + r.Name
	case !hasMatch(r.Match):
		return s.Name
	default:
		return fmt.Sprintf("%s-%d", s.Name, j)
	}
}

func hasMatch(m *pattern.Match) bool {
	return m != nil && (m.Path != nil || len(m.Headers) > 0)
}

// routeMatch is a route's match as an HTTPRouteGroup match.
func routeMatch(r *pattern.Route, j int) map[string]any {
	name := r.Name
	if name == "" {
		name = fmt.Sprintf("route-%d", j)
	}
	m := map[string]any{"name": name}
	if r.Match.Path != nil {
		m["pathRegex"] = stringMatchRegex(*r.Match.Path)
	}
	if len(r.Match.Headers) > 0 {
		m["headers"] = headerMatches(r.Match.Headers)
	}
	return m
}

// checkOrder reports routes whose order SMI cannot keep. The pattern's
// routes are tried in order; SMI defines no order between the
// TrafficSplits of one service, only (by intent) that one with matches
// takes its requests before one without.
func checkOrder(s *pattern.Service, svcPath string, gaps *translate.Gaps) {
	routes := s.Traffic.Routes
	for j := range routes {
		rj := routes[j]
		if len(rj.Split) == 0 {
			continue
		}
		for i := range j {
			ri := routes[i]
			switch {
			case !hasMatch(ri.Match):
				gaps.Add(pattern.FeatureSplit, fmt.Sprintf("%s.traffic.routes[%d].split", svcPath, j),
					fmt.Sprintf("routes[%d] has no match, so the pattern never reaches this route, but SMI would apply its TrafficSplit", i))
			case hasMatch(rj.Match) && translate.MayOverlap(ri.Match, rj.Match):
				gaps.Add(translate.MatchFeature(rj.Match), fmt.Sprintf("%s.traffic.routes[%d].match", svcPath, j),
					fmt.Sprintf("SMI orders no two TrafficSplits with matches, and requests may match both this route and routes[%d]", i))
			case !hasMatch(rj.Match) && len(ri.Split) == 0:
				gaps.Add(translate.MatchFeature(ri.Match), fmt.Sprintf("%s.traffic.routes[%d].match", svcPath, i),
					fmt.Sprintf("this route sends its requests to the whole service, but SMI cannot exempt them from the TrafficSplit of routes[%d]", j))
			default:
				continue
			}
			break
		}
	}
}
