// Package gamma translates a Pattern into Gateway API resources for a
// mesh (GAMMA): an HTTPRoute per service whose parentRef is the Service
// itself, routing to per-version Services. Only traffic intent has a
// Gateway API form; resilience, security and injection stay with the mesh.
package gamma

import (
	"fmt"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Translator renders patterns as GAMMA HTTPRoutes (Gateway API v1,
// standard channel).
type Translator struct{}

// New returns the GAMMA translator.
func New() *Translator { return &Translator{} }

// Name is the spec.mesh value.
func (*Translator) Name() string { return pattern.MeshGAMMA }

// Translate renders, per service with traffic, the generated per-version
// Services and then the HTTPRoute(s).
func (*Translator) Translate(p *pattern.Pattern, gaps *translate.Gaps) ([]translate.Object, error) {
	var out []translate.Object
	for i := range p.Spec.Services {
		s := &p.Spec.Services[i]
		if s.Traffic == nil || len(s.Traffic.Routes) == 0 {
			continue
		}
		path := fmt.Sprintf("spec.services[%d]", i)
		translate.CheckRouteOrder(s, path, gaps)
		versions, err := translate.VersionServices(p, s, path)
		if err != nil {
			return nil, err
		}
		out = append(out, versions...)
		routes, err := httpRoutes(p, s, path, gaps)
		if err != nil {
			return nil, err
		}
		out = append(out, routes...)
	}
	for _, o := range out {
		// Typed structs carry an empty status (parents: null,
		// loadBalancer: {}); a pattern never sets one.
		delete(o.Object, "status")
	}
	return out, nil
}
