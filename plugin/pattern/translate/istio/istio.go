// Package istio translates a Pattern into Istio resources: a
// VirtualService and a DestinationRule per service, PeerAuthentications
// for mTLS, an AuthorizationPolicy for allow rules, and injection labels
// on namespaces.
package istio

import (
	"fmt"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Translator renders patterns for Istio.
type Translator struct{}

// New returns the Istio translator.
func New() *Translator { return &Translator{} }

// Name is the spec.mesh value.
func (*Translator) Name() string { return pattern.MeshIstio }

// Translate renders the pattern's services, mTLS and injection, in a
// stable order: namespaces, the namespace-wide PeerAuthentication, then per
// service VirtualService, DestinationRule, PeerAuthentication and
// AuthorizationPolicy.
func (*Translator) Translate(p *pattern.Pattern, gaps *translate.Gaps) ([]translate.Object, error) {
	var out []translate.Object
	add := func(o translate.Object, err error) error {
		if err != nil {
			return err
		}
		out = append(out, o)
		return nil
	}
	if p.Spec.Injection != nil {
		for _, ns := range p.Spec.Injection.Namespaces {
			out = append(out, injectionNamespace(ns))
		}
	}
	if p.Spec.MTLS != "" {
		if err := add(peerAuthentication(p, nil, "spec.mtls", p.Spec.MTLS)); err != nil {
			return nil, err
		}
	}
	for i := range p.Spec.Services {
		s := &p.Spec.Services[i]
		path := fmt.Sprintf("spec.services[%d]", i)
		if s.Traffic != nil && len(s.Traffic.Routes) > 0 {
			if err := add(virtualService(p, s, path)); err != nil {
				return nil, err
			}
		}
		if needsDestinationRule(s) {
			if err := add(destinationRule(p, s, path, gaps)); err != nil {
				return nil, err
			}
		}
		if s.Security != nil && s.Security.MTLS != "" {
			if err := add(peerAuthentication(p, s, path+".security.mtls", s.Security.MTLS)); err != nil {
				return nil, err
			}
		}
		if s.Security != nil && len(s.Security.Allow) > 0 {
			if err := add(authorizationPolicy(p, s, path)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
