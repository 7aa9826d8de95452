// Package custompolicy loads custom policies from ConfigMaps labelled
// kubectl-mesh.io/policy=true in the webhook's namespace: compiled off the
// request path, swapped in atomically, and refused with an Event, a metric
// and a log line when they do not compile. It also validates such
// ConfigMaps on admission, so a bad policy is rejected at kubectl apply.
package custompolicy

import (
	"errors"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// PolicyLabel marks a ConfigMap whose .rego keys are custom policies.
const PolicyLabel = "kubectl-mesh.io/policy"

// IsPolicyConfigMap reports whether cm holds custom policies for a webhook
// running in namespace.
func IsPolicyConfigMap(cm *corev1.ConfigMap, namespace string) bool {
	return cm != nil && cm.Namespace == namespace && cm.Labels[PolicyLabel] == "true"
}

// SourceName is the file name errors print for a key of a ConfigMap, as in
// configmap/acme/deny-latest.rego:12: ...
func SourceName(configMap, key string) string {
	return "configmap/" + configMap + "/" + key
}

// SourcesFromConfigMap returns one source per data key ending in .rego, in
// key order.
func SourcesFromConfigMap(cm *corev1.ConfigMap) []policies.Source {
	name := cm.Name
	if name == "" {
		name = cm.GenerateName // a create with generateName has no name yet
	}
	var out []policies.Source
	for _, key := range slices.Sorted(maps.Keys(cm.Data)) {
		if strings.HasSuffix(key, ".rego") {
			out = append(out, policies.Source{Name: SourceName(name, key), Text: cm.Data[key]})
		}
	}
	return out
}

// blame returns the ConfigMaps, among names, that err points at: by the
// file of each located error, or by a configmap/NAME/ mention in the text.
// When it points at none of them, it returns nil.
func blame(err error, names []string) []string {
	files := map[string]bool{}
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		var located *policies.LocatedError
		if errors.As(e, &located) {
			files[located.File] = true
		}
		if joined, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range joined.Unwrap() {
				walk(inner)
			}
			return
		}
		walk(errors.Unwrap(e))
	}
	walk(err)
	text := err.Error()
	var out []string
	for _, name := range names {
		prefix := SourceName(name, "")
		hit := strings.Contains(text, prefix)
		for file := range files {
			hit = hit || strings.HasPrefix(file, prefix)
		}
		if hit {
			out = append(out, name)
		}
	}
	return out
}

// linesAbout keeps the lines of msg that mention the ConfigMap name, so its
// Event says what is wrong with it; all of msg when none does.
func linesAbout(msg, name string) string {
	prefix := SourceName(name, "")
	var kept []string
	for _, line := range strings.Split(msg, "\n") {
		if strings.Contains(line, prefix) {
			kept = append(kept, line)
		}
	}
	if len(kept) == 0 {
		return msg
	}
	return strings.Join(kept, "\n")
}
