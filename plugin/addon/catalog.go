// Package addon is the catalog of the add-ons that make a mesh observable
// (Prometheus, Grafana, Jaeger, Kiali, Linkerd's viz and jaeger
// extensions) and their Helm release plans for plugin/lifecycle: each from
// its project's official chart repository at a pinned version, in the
// namespace the mesh's documentation installs it in, with values that
// connect it to the installed mesh and to the other add-ons.
package addon

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/linkerd"
)

// Meshes an add-on applies to.
const (
	MeshIstio   = "istio"
	MeshLinkerd = "linkerd"
)

// Release labels: status finds the add-ons by them.
const (
	LabelAddon = "kubectl-mesh.io/addon"
	LabelMesh  = "kubectl-mesh.io/mesh"
)

// Addon is one entry of the catalog.
type Addon struct {
	// Name is how users name it, and its Helm release's name.
	Name string
	// Chart, Repo and Version: the official chart, its repository and the
	// version installed without --version (see the pins below).
	Chart, Repo, Version string
	// Meshes it applies to.
	Meshes      []string
	Description string
	// Service and Port are its in-cluster entry, http://SERVICE.NAMESPACE:PORT.
	Service string
	Port    int
	// FollowsMesh: without --version, the chart version is the installed
	// control plane's release (Linkerd's extensions must match it).
	FollowsMesh bool
	// namespaces by mesh: where the mesh's documentation installs it.
	namespaces map[string]string
	// values are the project's values for the mesh.
	values func(t target) map[string]any
}

// The pinned versions, recorded here only. Prometheus 28.13.0, Grafana
// 9.2.2 and kiali-server 2.27.0 are the versions Istio's own add-on
// generator pins (manifests/addons/gen.sh of the istio.io/istio module in
// go.mod), so the values below are the contract those charts have; Jaeger
// 4.11.1 is the newest release of its chart (Jaeger v2 all-in-one, in-memory
// storage by default) when this was written; Linkerd's extensions
// 2026.1.1 are the edge release the project's Linkerd tests stand in for,
// installed when the control plane's release is unknown (a client dry
// run): they must match it, so install takes the installed one's.
const (
	prometheusVersion = "28.13.0"
	grafanaVersion    = "9.2.2"
	jaegerVersion     = "4.11.1"
	kialiVersion      = "2.27.0"
	linkerdExtVersion = "2026.1.1"
)

// catalog is every add-on, in the order list shows them.
func catalog() []Addon {
	return []Addon{
		{
			Name: "prometheus", Chart: "prometheus", Repo: "https://prometheus-community.github.io/helm-charts", Version: prometheusVersion,
			Meshes: []string{MeshIstio, MeshLinkerd}, Description: "Metrics: scrapes the mesh's proxies and control plane",
			Service: "prometheus", Port: 9090,
			namespaces: map[string]string{MeshIstio: istio.DefaultNamespace, MeshLinkerd: "prometheus"},
			values:     prometheusValues,
		},
		{
			Name: "grafana", Chart: "grafana", Repo: "https://grafana.github.io/helm-charts", Version: grafanaVersion,
			Meshes: []string{MeshIstio, MeshLinkerd}, Description: "Dashboards: the mesh's, over the prometheus add-on",
			Service: "grafana", Port: 3000,
			namespaces: map[string]string{MeshIstio: istio.DefaultNamespace, MeshLinkerd: "grafana"},
			values:     grafanaValues,
		},
		{
			Name: "jaeger", Chart: "jaeger", Repo: "https://jaegertracing.github.io/helm-charts", Version: jaegerVersion,
			Meshes: []string{MeshIstio}, Description: "Tracing: Jaeger v2 all-in-one, in memory",
			Service: "jaeger", Port: 16686,
			namespaces: map[string]string{MeshIstio: istio.DefaultNamespace},
			values:     jaegerValues,
		},
		{
			Name: "kiali", Chart: "kiali-server", Repo: "https://kiali.org/helm-charts", Version: kialiVersion,
			Meshes: []string{MeshIstio}, Description: "Istio's console, over the prometheus add-on",
			Service: "kiali", Port: 20001,
			namespaces: map[string]string{MeshIstio: istio.DefaultNamespace},
			values:     kialiValues,
		},
		{
			Name: "linkerd-viz", Chart: "linkerd-viz", Repo: linkerd.DefaultRepo, Version: linkerdExtVersion,
			Meshes: []string{MeshLinkerd}, Description: "Linkerd's dashboard, metrics and tap",
			Service: "web", Port: 8084, FollowsMesh: true,
			namespaces: map[string]string{MeshLinkerd: "linkerd-viz"},
			values:     linkerdExtensionValues,
		},
		{
			Name: "linkerd-jaeger", Chart: "linkerd-jaeger", Repo: linkerd.DefaultRepo, Version: linkerdExtVersion,
			Meshes: []string{MeshLinkerd}, Description: "Linkerd's tracing extension: collector and Jaeger",
			Service: "jaeger", Port: 16686, FollowsMesh: true,
			namespaces: map[string]string{MeshLinkerd: "linkerd-jaeger"},
			values:     linkerdExtensionValues,
		},
	}
}

// All is the catalog.
func All() []Addon { return catalog() }

// Names are the add-ons' names, in catalog order.
func Names() []string {
	var names []string
	for _, a := range catalog() {
		names = append(names, a.Name)
	}
	return names
}

// Get returns the add-on called name.
func Get(name string) (Addon, error) {
	for _, a := range catalog() {
		if a.Name == name {
			return a, nil
		}
	}
	return Addon{}, fmt.Errorf("unknown add-on %q (allowed: %s)", name, strings.Join(Names(), ", "))
}

// Supports reports whether the add-on applies to the mesh.
func (a Addon) Supports(mesh string) bool { return slices.Contains(a.Meshes, mesh) }

// Namespace is where the add-on goes for the mesh without -n.
func (a Addon) Namespace(mesh string) string { return a.namespaces[mesh] }

// URL is the add-on's in-cluster address in namespace.
func (a Addon) URL(namespace string) string {
	return fmt.Sprintf("http://%s.%s:%d", a.Service, namespace, a.Port)
}

// meshNamespace is the namespace the adapters install each mesh's
// control plane in by default.
func meshNamespace(mesh string) string {
	if mesh == MeshLinkerd {
		return linkerd.DefaultNamespace
	}
	return istio.DefaultNamespace
}

// istioRelease is the Istio release whose dashboards Grafana gets: the
// one kubectl mesh installs by default.
const istioRelease = istio.DefaultVersion
