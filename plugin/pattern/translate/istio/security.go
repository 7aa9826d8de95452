package istio

import (
	"fmt"
	"strings"

	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// trustDomain is Istio's default; principals are SPIFFE IDs without the
// spiffe:// scheme.
const trustDomain = "cluster.local"

// peerAuthentication sets the mTLS mode: namespace-wide ("default", no
// selector) when s is nil, else for the service's pods.
func peerAuthentication(p *pattern.Pattern, s *pattern.Service, path, mode string) (translate.Object, error) {
	m, ok := securityv1beta1.PeerAuthentication_MutualTLS_Mode_value[strings.ToUpper(mode)]
	if !ok || m == int32(securityv1beta1.PeerAuthentication_MutualTLS_UNSET) {
		return translate.Object{}, fmt.Errorf("%s: mTLS mode %q is not one of STRICT, PERMISSIVE, DISABLE", path, mode)
	}
	pa := &securityv1.PeerAuthentication{
		TypeMeta:   metav1.TypeMeta{APIVersion: "security.istio.io/v1", Kind: "PeerAuthentication"},
		ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: p.Metadata.Namespace},
	}
	pa.Spec.Mtls = &securityv1beta1.PeerAuthentication_MutualTLS{Mode: securityv1beta1.PeerAuthentication_MutualTLS_Mode(m)}
	if s != nil {
		pa.Name = s.Name + "-mtls"
		pa.Spec.Selector = &typev1beta1.WorkloadSelector{MatchLabels: s.PodSelector()}
	}
	return object(pa)
}

// authorizationPolicy allows what the allow rules name and, because an
// ALLOW policy selects the pods, denies everything else to them.
func authorizationPolicy(p *pattern.Pattern, s *pattern.Service, svcPath string) (translate.Object, error) {
	ap := &securityv1.AuthorizationPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "security.istio.io/v1", Kind: "AuthorizationPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: p.Metadata.Namespace},
	}
	ap.Spec.Selector = &typev1beta1.WorkloadSelector{MatchLabels: s.PodSelector()}
	ap.Spec.Action = securityv1beta1.AuthorizationPolicy_ALLOW
	for k, a := range s.Security.Allow {
		rule := &securityv1beta1.Rule{}
		// Separate from[] entries are ORed; principals and namespaces in
		// one source would both have to hold.
		if len(a.From.ServiceAccounts) > 0 {
			var principals []string
			for _, sa := range a.From.ServiceAccounts {
				principal, err := principalOf(p, sa, fmt.Sprintf("%s.security.allow[%d].from.serviceAccounts", svcPath, k))
				if err != nil {
					return translate.Object{}, err
				}
				principals = append(principals, principal)
			}
			rule.From = append(rule.From, &securityv1beta1.Rule_From{Source: &securityv1beta1.Source{Principals: principals}})
		}
		if len(a.From.Namespaces) > 0 {
			rule.From = append(rule.From, &securityv1beta1.Rule_From{Source: &securityv1beta1.Source{Namespaces: a.From.Namespaces}})
		}
		if len(a.Methods) > 0 || len(a.Paths) > 0 {
			// Istio's paths take the pattern's "/api/*" prefix form as is.
			rule.To = []*securityv1beta1.Rule_To{{Operation: &securityv1beta1.Operation{Methods: a.Methods, Paths: a.Paths}}}
		}
		ap.Spec.Rules = append(ap.Spec.Rules, rule)
	}
	o, err := object(ap)
	if err != nil {
		return o, err
	}
	// ALLOW is the enum's zero value, which protojson leaves out; say it.
	if err := unstructured.SetNestedField(o.Object, "ALLOW", "spec", "action"); err != nil {
		return o, fmt.Errorf("setting the action of AuthorizationPolicy %s: %w", s.Name, err)
	}
	return o, nil
}

// principalOf turns "name" or "namespace/name" into Istio's principal.
func principalOf(p *pattern.Pattern, sa, path string) (string, error) {
	ns, name, found := strings.Cut(sa, "/")
	if !found {
		ns, name = p.Metadata.Namespace, sa
	}
	if ns == "" || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("%s: %q is not a service account (\"name\" or \"namespace/name\", with the pattern's namespace known)", path, sa)
	}
	return fmt.Sprintf("%s/ns/%s/sa/%s", trustDomain, ns, name), nil
}

// injectionNamespace labels a namespace for sidecar injection. It is
// shared: the pattern owns only the label.
func injectionNamespace(name string) translate.Object {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata": map[string]any{
			"name":   name,
			"labels": map[string]any{"istio-injection": "enabled"},
		},
	}}
	return translate.Object{Unstructured: u, Shared: true}
}
