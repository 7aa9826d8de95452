package linkerd

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// API versions of the Linkerd kinds the translator renders (Linkerd 2.16+).
const (
	policyGroup   = "policy.linkerd.io"
	apiHTTPRoute  = policyGroup + "/v1beta3"
	apiServer     = policyGroup + "/v1beta3"
	apiAuthn      = policyGroup + "/v1alpha1" // MeshTLSAuthentication, AuthorizationPolicy
	apiProfile    = "linkerd.io/v1alpha2"
	clusterDomain = "svc.cluster.local"
)

// object builds an unstructured object. Values must already be in JSON
// form (int64, float64, string, bool, []any, map[string]any).
func object(apiVersion, kind, namespace, name string, spec map[string]any) translate.Object {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion,
		"kind":       kind,
		"metadata":   map[string]any{"name": name},
	}}
	if namespace != "" {
		u.SetNamespace(namespace)
	}
	if spec != nil {
		u.Object["spec"] = spec
	}
	return translate.Object{Unstructured: u}
}

// sharedObject is an object that belongs to someone else; the pattern sets
// only its annotations.
func sharedObject(apiVersion, kind, namespace, name string, annotations map[string]string) translate.Object {
	o := object(apiVersion, kind, namespace, name, nil)
	o.SetAnnotations(annotations)
	o.Shared = true
	return o
}

// routeName is the name of the object rendered for one route:
// <service>-<route name>, or <service>-<index> for an unnamed route.
func routeName(s *pattern.Service, j int) string {
	if name := s.Traffic.Routes[j].Name; name != "" {
		return s.Name + "-" + name
	}
	return fmt.Sprintf("%s-%d", s.Name, j)
}

// fqdn is the cluster DNS name of a Service of the pattern's namespace.
func fqdn(p *pattern.Pattern, service string) string {
	return fmt.Sprintf("%s.%s.%s", service, p.Metadata.Namespace, clusterDomain)
}

// gatewayDuration renders a Go duration in Gateway API's duration format
// (GEP-2257: integer h, m, s and ms parts), which Linkerd parses for
// HTTPRoute timeouts and its retry annotations.
func gatewayDuration(s, path string) (string, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return "", fmt.Errorf("%s: %q is not a duration: %w", path, s, err)
	}
	if d < 0 || d%time.Millisecond != 0 {
		return "", fmt.Errorf("%s: %q must be a positive whole number of milliseconds", path, s)
	}
	if d == 0 {
		return "0s", nil
	}
	var b strings.Builder
	for _, unit := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if n := d / unit.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, unit.name)
			d -= n * unit.d
		}
	}
	return b.String(), nil
}

// anchored makes a regular expression match whole values, as the
// pattern's regexes do (RE2 full match), whatever anchoring the consumer
// applies.
func anchored(re string) string {
	if strings.HasPrefix(re, "^") && strings.HasSuffix(re, "$") {
		return re
	}
	return "^(?:" + re + ")$"
}

// stringMatchRegex is a string match as an anchored regular expression.
func stringMatchRegex(m pattern.StringMatch) string {
	switch {
	case m.Exact != "":
		return "^" + regexp.QuoteMeta(m.Exact) + "$"
	case m.Prefix != "":
		return "^" + regexp.QuoteMeta(m.Prefix) + ".*$"
	default:
		return anchored(m.Regex)
	}
}

// targetPort is the container port a Server selects for a Service port.
func targetPort(port pattern.Port) int64 {
	if port.TargetPort != 0 {
		return int64(port.TargetPort)
	}
	return int64(port.Port)
}

// httpPorts are the service's ports that carry HTTP (all but TCP).
func httpPorts(s *pattern.Service) []pattern.Port {
	var out []pattern.Port
	for _, port := range s.Ports {
		if !strings.EqualFold(port.Protocol, "TCP") {
			out = append(out, port)
		}
	}
	return out
}
