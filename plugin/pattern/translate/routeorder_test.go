package translate

import (
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
)

func TestCheckRouteOrder(t *testing.T) {
	header := func(name, exact string) *pattern.Match {
		return &pattern.Match{Headers: map[string]pattern.StringMatch{name: {Exact: exact}}}
	}
	prefix := func(p string) *pattern.Match { return &pattern.Match{Path: &pattern.StringMatch{Prefix: p}} }
	exact := func(p string) *pattern.Match { return &pattern.Match{Path: &pattern.StringMatch{Exact: p}} }
	tests := []struct {
		name    string
		matches []*pattern.Match
		want    []string // gap paths
	}{
		{"header then catch-all keeps its order", []*pattern.Match{header("end-user", "jason"), nil}, nil},
		{"longer prefix first keeps its order", []*pattern.Match{prefix("/api/v2"), prefix("/api"), nil}, nil},
		{"shorter prefix first is reordered", []*pattern.Match{prefix("/api"), prefix("/api/v2")}, []string{"spec.services[0].traffic.routes[1]"}},
		{"exact path after a prefix is reordered", []*pattern.Match{prefix("/"), exact("/login")}, []string{"spec.services[0].traffic.routes[1]"}},
		{"disjoint prefixes do not overlap", []*pattern.Match{prefix("/a"), prefix("/bb")}, nil},
		{"different exact header values do not overlap", []*pattern.Match{header("x", "1"), {Headers: map[string]pattern.StringMatch{"x": {Exact: "2"}, "y": {Exact: "3"}}}}, nil},
		{"more headers after fewer is reordered", []*pattern.Match{header("x", "1"), {Headers: map[string]pattern.StringMatch{"x": {Exact: "1"}, "y": {Exact: "3"}}}}, []string{"spec.services[0].traffic.routes[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &pattern.Service{Name: "reviews", Traffic: &pattern.Traffic{}}
			for _, m := range tt.matches {
				s.Traffic.Routes = append(s.Traffic.Routes, pattern.Route{Match: m})
			}
			gaps := &Gaps{mesh: "gamma"}
			CheckRouteOrder(s, "spec.services[0]", gaps)
			var got []string
			for _, g := range gaps.List() {
				got = append(got, g.Path)
				if !strings.Contains(g.Detail, "put the more specific route first") {
					t.Errorf("gap detail %q does not say how to fix it", g.Detail)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("gaps at %v, want %v", got, tt.want)
			}
		})
	}
}
