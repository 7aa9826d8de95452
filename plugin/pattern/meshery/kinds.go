package meshery

import "strings"

// The kinds a Meshery service type can name, by family, with the
// apiVersion kubectl mesh applies them as (the served versions of Istio
// 1.31, Linkerd 2.x policy and Kubernetes).
var (
	istioKinds = map[string]string{
		"VirtualService":        "networking.istio.io/v1",
		"DestinationRule":       "networking.istio.io/v1",
		"Gateway":               "networking.istio.io/v1",
		"ServiceEntry":          "networking.istio.io/v1",
		"Sidecar":               "networking.istio.io/v1",
		"WorkloadEntry":         "networking.istio.io/v1",
		"WorkloadGroup":         "networking.istio.io/v1",
		"EnvoyFilter":           "networking.istio.io/v1alpha3", // never promoted
		"ProxyConfig":           "networking.istio.io/v1beta1",
		"PeerAuthentication":    "security.istio.io/v1",
		"AuthorizationPolicy":   "security.istio.io/v1",
		"RequestAuthentication": "security.istio.io/v1",
		"WasmPlugin":            "extensions.istio.io/v1alpha1",
		"Telemetry":             "telemetry.istio.io/v1",
	}
	linkerdKinds = map[string]string{
		"ServiceProfile":        "linkerd.io/v1alpha2",
		"Server":                "policy.linkerd.io/v1beta3",
		"HTTPRoute":             "policy.linkerd.io/v1beta3",
		"AuthorizationPolicy":   "policy.linkerd.io/v1alpha1",
		"MeshTLSAuthentication": "policy.linkerd.io/v1alpha1",
		"NetworkAuthentication": "policy.linkerd.io/v1alpha1",
		"ServerAuthorization":   "policy.linkerd.io/v1beta1",
	}
	k8sKinds = map[string]string{
		"Deployment":              "apps/v1",
		"StatefulSet":             "apps/v1",
		"DaemonSet":               "apps/v1",
		"ReplicaSet":              "apps/v1",
		"Service":                 "v1",
		"ServiceAccount":          "v1",
		"ConfigMap":               "v1",
		"Secret":                  "v1",
		"Namespace":               "v1",
		"Pod":                     "v1",
		"Job":                     "batch/v1",
		"CronJob":                 "batch/v1",
		"Ingress":                 "networking.k8s.io/v1",
		"NetworkPolicy":           "networking.k8s.io/v1",
		"HorizontalPodAutoscaler": "autoscaling/v2",
		"PodDisruptionBudget":     "policy/v1",
		"Role":                    "rbac.authorization.k8s.io/v1",
		"RoleBinding":             "rbac.authorization.k8s.io/v1",
		"ClusterRole":             "rbac.authorization.k8s.io/v1",
		"ClusterRoleBinding":      "rbac.authorization.k8s.io/v1",
	}
)

// family is a group of kinds and the type suffixes that select it.
type family struct {
	name     string
	mesh     string // the pattern target its objects imply; "" for Kubernetes
	kinds    map[string]string
	suffixes []string // ".Istio" (Meshery designs) and "Istio" (older pattern files)
	models   []string // the newer "model:" field
}

var families = []family{
	{name: "Istio", mesh: "istio", kinds: istioKinds, suffixes: []string{".Istio", "Istio"}, models: []string{"istio", "istio-base"}},
	{name: "Linkerd", mesh: "linkerd", kinds: linkerdKinds, suffixes: []string{".Linkerd", "Linkerd"}, models: []string{"linkerd"}},
	{name: "K8s", kinds: k8sKinds, suffixes: []string{".K8s", "K8s"}, models: []string{"kubernetes"}},
}

// objectKind maps a Meshery type (and model, when given) to an apiVersion
// and kind. ok is false for types kubectl mesh does not import.
func objectKind(typ, model string) (apiVersion, kind string, ok bool) {
	f, kind := objectFamily(typ, model)
	if f == nil {
		return "", "", false
	}
	return f.kinds[kind], kind, true
}

// objectFamily finds the family of a Meshery type (and model, when given)
// and the kind it names; nil when kubectl mesh does not import the type.
func objectFamily(typ, model string) (*family, string) {
	for i, f := range families {
		for _, suffix := range f.suffixes {
			if k, found := strings.CutSuffix(typ, suffix); found && f.kinds[k] != "" {
				return &families[i], k
			}
		}
	}
	for i, f := range families {
		for _, m := range f.models {
			if strings.EqualFold(model, m) && f.kinds[typ] != "" {
				return &families[i], typ
			}
		}
	}
	return nil, ""
}
