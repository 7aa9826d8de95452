// Package smi translates a Pattern into Service Mesh Interface resources:
// TrafficSplits (split.smi-spec.io/v1alpha4) between per-version Services,
// HTTPRouteGroups (specs.smi-spec.io/v1alpha4) for their matches, and
// TrafficTargets (access.smi-spec.io/v1alpha3) for allow rules from
// service accounts. SMI has no timeouts, retries, faults, mirroring,
// resilience, mTLS modes or injection.
package smi

import (
	"fmt"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Translator renders patterns for SMI.
type Translator struct{}

// New returns the SMI translator.
func New() *Translator { return &Translator{} }

// Name is the spec.mesh value.
func (*Translator) Name() string { return pattern.MeshSMI }

// Translate renders per service, in a stable order: its version Services,
// then per route an HTTPRouteGroup (for a match) and a TrafficSplit, then
// per allow rule an HTTPRouteGroup and a TrafficTarget.
func (*Translator) Translate(p *pattern.Pattern, gaps *translate.Gaps) ([]translate.Object, error) {
	var out []translate.Object
	for i := range p.Spec.Services {
		s := &p.Spec.Services[i]
		path := fmt.Sprintf("spec.services[%d]", i)
		if s.Traffic != nil && len(s.Traffic.Routes) > 0 {
			versions, err := translate.VersionServices(p, s, path)
			if err != nil {
				return nil, err
			}
			out = append(out, versions...)
			splits, err := trafficSplits(p, s, path, gaps)
			if err != nil {
				return nil, err
			}
			out = append(out, splits...)
		}
		if s.Security != nil && len(s.Security.Allow) > 0 {
			targets, err := trafficTargets(p, s, path)
			if err != nil {
				return nil, err
			}
			out = append(out, targets...)
		}
	}
	return out, nil
}
