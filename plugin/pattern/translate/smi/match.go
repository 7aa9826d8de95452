package smi

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	specsv1alpha4 "github.com/servicemeshinterface/smi-sdk-go/pkg/apis/specs/v1alpha4"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

var specsGroup = specsv1alpha4.SchemeGroupVersion.Group

// routeGroup builds an HTTPRouteGroup. It is unstructured because
// smi-sdk-go marshals match headers from a map, in random order.
func routeGroup(namespace, name string, matches []map[string]any) translate.Object {
	list := make([]any, len(matches))
	for i, m := range matches {
		list[i] = m
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": specsv1alpha4.SchemeGroupVersion.String(),
		"kind":       "HTTPRouteGroup",
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"spec":       map[string]any{"matches": list},
	}}
	return translate.Object{Unstructured: u}
}

// headerMatches are SMI's header matches: a list of one-entry maps from
// header name to a regex, sorted by name.
func headerMatches(headers map[string]pattern.StringMatch) []any {
	var out []any
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		out = append(out, map[string]any{name: stringMatchRegex(headers[name])})
	}
	return out
}

// stringMatchRegex is a string match as an anchored regex (SMI matches
// regexes only).
func stringMatchRegex(m pattern.StringMatch) string {
	switch {
	case m.Exact != "":
		return "^" + regexp.QuoteMeta(m.Exact) + "$"
	case m.Prefix != "":
		return "^" + regexp.QuoteMeta(m.Prefix) + ".*$"
	case strings.HasPrefix(m.Regex, "^") && strings.HasSuffix(m.Regex, "$"):
		return m.Regex
	default:
		return "^(?:" + m.Regex + ")$"
	}
}
