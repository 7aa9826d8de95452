// Package app renders the sample applications a user deploys right after
// installing a mesh (bookinfo, httpbin, curl, emojivoto, booksapp) for one
// mesh (istio, linkerd or none), as the objects plugin/pattern/apply
// applies as an ApplySet, exactly as it applies patterns.
//
// The manifests live in the binary. Istio's samples are Istio's files,
// copied from the istio.io/istio module by `make app-manifests` into
// manifests/upstream (git-ignored, never committed); the project commits
// only its overlays on them (manifests/<app>/overlay.yaml: strategic merge
// patches) and the traffic objects of each mesh (manifests/<app>/<mesh>.yaml,
// and the ingress in <mesh>-ingress.yaml or, for the Gateway API,
// <mesh>-ingress-gateway-api.yaml).
// emojivoto and booksapp are in no Go module: their manifests are written
// here (manifests/<app>/app.yaml). Every app, rendered for every mesh it
// supports, passes the policy library without a warning (app_test.go).
//
// The package knows no cobra and no mesh adapter: the caller passes the
// mesh's injection marks (mesh.Injector.InjectionMarks).
package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// MeshNone renders an app without a mesh: no injection, no traffic objects.
const MeshNone = "none"

// Labels every rendered object carries, and pod templates LabelApp, so
// that what deploy created can be listed and its pods found; the ApplySet
// labels that delete relies on are plugin/pattern/apply's.
const (
	LabelApp       = apply.LabelApp
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is LabelManagedBy's value, as patterns' objects have it.
	ManagedBy = "kubectl-mesh"
)

// App is one sample application.
type App struct {
	name        string
	description string
	meshes      []string
	// upstream is the file in manifests/upstream that is the app's base
	// (Istio's sample); empty for apps whose base is manifests/<name>/app.yaml.
	upstream string
}

// catalog is the one list of apps, in the order app list shows them.
func catalog() []App {
	return []App{
		{name: "bookinfo", description: "Istio's Bookinfo: productpage, details, reviews v1/v2/v3, ratings", meshes: []string{"istio", "linkerd", MeshNone}, upstream: "bookinfo.yaml"},
		{name: "httpbin", description: "Istio's httpbin: an HTTP request and response service", meshes: []string{"istio", "linkerd", MeshNone}, upstream: "httpbin.yaml"},
		{name: "curl", description: "Istio's curl client, to send requests from inside the mesh", meshes: []string{"istio", "linkerd", MeshNone}, upstream: "curl.yaml"},
		{name: "emojivoto", description: "Buoyant's emojivoto: gRPC services behind a web front end, with a load generator", meshes: []string{"istio", "linkerd", MeshNone}},
		{name: "booksapp", description: "Buoyant's booksapp: Linkerd's per-route metrics and retries sample, with a load generator", meshes: []string{"linkerd", MeshNone}},
	}
}

// Names lists the apps, in catalog order.
func Names() []string {
	apps := catalog()
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = a.name
	}
	return names
}

// Get returns the app called name.
func Get(name string) (App, error) {
	for _, a := range catalog() {
		if a.name == name {
			return a, nil
		}
	}
	// cmdutil.UnknownValue's wording, which a library cannot import.
	return App{}, fmt.Errorf("unknown app %q (allowed: %s)", name, strings.Join(Names(), ", "))
}

// Name is how users name the app.
func (a App) Name() string { return a.name }

// Description is a line for app list.
func (a App) Description() string { return a.description }

// Meshes are the meshes the app can be rendered for, MeshNone included.
func (a App) Meshes() []string { return slices.Clone(a.meshes) }

// RenderOptions say where and for which mesh an app is rendered.
type RenderOptions struct {
	// Namespace of every object; empty means the app's name.
	Namespace string
	// Mesh is one of the app's Meshes; empty means MeshNone.
	Mesh string
	// InjectionMarks enrol the namespace for the mesh's proxy injection
	// (the adapter's InjectionMarks(true, revision)); ignored for MeshNone.
	// Entries that remove a mark (nil) are left out: server-side apply
	// cannot remove another manager's label, and a new namespace has none.
	InjectionMarks mesh.Marks
	// NamespaceExists renders the Namespace as a shared object that holds
	// only the injection marks (and none without marks), so that deleting
	// the app gives them back instead of deleting a namespace it did not
	// create.
	NamespaceExists bool
	// Host is the ingress host of the apps Istio serves through an ingress
	// (bookinfo, httpbin, emojivoto); empty means <app>.example.com, as
	// Istio's ingress tasks name httpbin's. Two deployments of an app behind
	// one ingress gateway need different hosts; "*" takes every host.
	Host string
	// GatewayAPI renders that ingress as a Gateway API Gateway (class
	// istio) and HTTPRoute instead of Istio's Gateway and VirtualService:
	// for clusters with the Gateway API CRDs. Other meshes have no ingress.
	GatewayAPI bool
}

// Render returns the objects that deploy the app for opts.Mesh, in the
// order they must be applied: the Namespace, ServiceAccounts, Services,
// what routes name (DestinationRules, ServiceProfiles), workloads, then
// Gateways and routes.
//
// The mesh's objects come from manifests/<app>/<mesh>.yaml (routing inside
// the mesh) and <mesh>-ingress.yaml or, with GatewayAPI,
// <mesh>-ingress-gateway-api.yaml (the way in), templates that may name
// {{ .Namespace }} and {{ .Host }}.
func (a App) Render(opts RenderOptions) ([]translate.Object, error) {
	return a.render(embedded(), opts)
}
