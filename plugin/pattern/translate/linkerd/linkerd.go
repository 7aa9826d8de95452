// Package linkerd translates a Pattern into Linkerd (2.16+) resources:
// policy.linkerd.io HTTPRoutes with Service parents for routing, timeouts
// and retry annotations; a ServiceProfile instead when a route sets a
// retry budget; failure accrual annotations on the Service; Servers,
// MeshTLSAuthentications, HTTPRoutes and AuthorizationPolicies for
// security; and annotations on Namespaces for injection and the default
// inbound policy.
package linkerd

import (
	"fmt"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Translator renders patterns for Linkerd.
type Translator struct{}

// New returns the Linkerd translator.
func New() *Translator { return &Translator{} }

// Name is the spec.mesh value.
func (*Translator) Name() string { return pattern.MeshLinkerd }

// Translate renders, in a stable order: the Namespaces, then per service
// its version Services, its routing (HTTPRoutes or a ServiceProfile), its
// Service annotations and its security objects.
func (*Translator) Translate(p *pattern.Pattern, gaps *translate.Gaps) ([]translate.Object, error) {
	out := namespaces(p, gaps)
	for i := range p.Spec.Services {
		s := &p.Spec.Services[i]
		path := fmt.Sprintf("spec.services[%d]", i)
		if s.Traffic != nil && len(s.Traffic.Routes) > 0 {
			versions, err := translate.VersionServices(p, s, path)
			if err != nil {
				return nil, err
			}
			out = append(out, versions...)
			if needsProfile(s) {
				profile, err := serviceProfile(p, s, path, gaps)
				if err != nil {
					return nil, err
				}
				out = append(out, profile)
			} else {
				routes, err := outboundRoutes(p, s, path, gaps)
				if err != nil {
					return nil, err
				}
				out = append(out, routes...)
			}
		}
		if s.Resilience != nil {
			out = append(out, resilience(p, s, path, gaps)...)
		}
		if s.Security != nil && (s.Security.MTLS != "" || len(s.Security.Allow) > 0) {
			objs, err := security(p, s, path, gaps)
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}
