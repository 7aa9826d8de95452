package smi

import (
	"fmt"
	"regexp"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	accessv1alpha3 "github.com/servicemeshinterface/smi-sdk-go/pkg/apis/access/v1alpha3"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// trafficTargets renders each allow rule as an HTTPRouteGroup of its
// methods and paths and a TrafficTarget from its service accounts to the
// service's. Namespaces as sources are None (Run has reported them); a
// rule from namespaces only renders nothing.
func trafficTargets(p *pattern.Pattern, s *pattern.Service, svcPath string) ([]translate.Object, error) {
	ns := p.Metadata.Namespace
	var out []translate.Object
	for k, rule := range s.Security.Allow {
		if len(rule.From.ServiceAccounts) == 0 {
			continue
		}
		name := fmt.Sprintf("%s-allow-%d", s.Name, k)
		out = append(out, routeGroup(ns, name, accessMatches(rule)))
		target := &accessv1alpha3.TrafficTarget{
			TypeMeta:   metav1.TypeMeta{APIVersion: accessv1alpha3.SchemeGroupVersion.String(), Kind: "TrafficTarget"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: accessv1alpha3.TrafficTargetSpec{
				Destination: accessv1alpha3.IdentityBindingSubject{Kind: "ServiceAccount", Name: s.ServiceAccountName(), Namespace: ns},
				Rules:       []accessv1alpha3.TrafficTargetRule{{Kind: "HTTPRouteGroup", Name: name}},
			},
		}
		for _, sa := range rule.From.ServiceAccounts {
			saNS, saName := ns, sa
			if before, after, ok := strings.Cut(sa, "/"); ok {
				saNS, saName = before, after
			}
			target.Spec.Sources = append(target.Spec.Sources, accessv1alpha3.IdentityBindingSubject{Kind: "ServiceAccount", Name: saName, Namespace: saNS})
		}
		u, err := translate.ToUnstructured(target)
		if err != nil {
			return nil, fmt.Errorf("%s.security.allow[%d]: %w", svcPath, k, err)
		}
		out = append(out, translate.Object{Unstructured: u})
	}
	return out, nil
}

// accessMatches are a rule's paths, each with its methods ("*": any); a
// rule without paths matches every path.
func accessMatches(rule pattern.AllowRule) []map[string]any {
	methods := []any{"*"}
	if len(rule.Methods) > 0 {
		methods = nil
		for _, m := range rule.Methods {
			methods = append(methods, strings.ToUpper(m))
		}
	}
	if len(rule.Paths) == 0 {
		return []map[string]any{{"name": "any-path", "pathRegex": ".*", "methods": methods}}
	}
	var out []map[string]any
	for n, path := range rule.Paths {
		re := "^" + regexp.QuoteMeta(path) + "$"
		if prefix, ok := strings.CutSuffix(path, "*"); ok {
			re = "^" + regexp.QuoteMeta(prefix) + ".*$"
		}
		out = append(out, map[string]any{"name": fmt.Sprintf("path-%d", n), "pathRegex": re, "methods": methods})
	}
	return out
}
