// Package precheck tells whether a cluster is ready for a mesh install, as
// istioctl x precheck and linkerd check --pre do: the Kubernetes version,
// the caller's permissions, installs that would conflict, the CRD versions
// already served and the control plane namespace. It only reads.
package precheck

import (
	"context"
	"fmt"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
)

// Meshes precheck knows.
const (
	Istio   = "istio"
	Linkerd = "linkerd"
)

// Status of one check.
type Status string

const (
	StatusOK      Status = "ok"
	StatusWarning Status = "warning"
	StatusFailed  Status = "failed"
)

// Categories of checks, in the order Run returns them.
const (
	CategoryAPI         = "kubernetes-api"
	CategoryVersion     = "kubernetes-version"
	CategoryPermissions = "permissions"
	CategoryConflicts   = "existing-installs"
	CategoryCRDs        = "crds"
	CategoryNamespaces  = "namespaces"
)

// Result is the outcome of one check.
type Result struct {
	Category string `json:"category"`
	Name     string `json:"name"`
	Status   Status `json:"status"`
	Message  string `json:"message,omitempty"`
	Hint     string `json:"hint,omitempty"`
	// Err is set when the check could not read the cluster for a reason
	// other than missing permissions: its verdict is then incomplete.
	Err error `json:"-"`
}

// meshSpec is what the checks need to know about a mesh.
type meshSpec struct {
	name, title      string
	defaultNamespace string
	// Kubernetes minor versions supported: older than min fails, newer than
	// maxTested warns.
	minMinor, maxTestedMinor int
	supportURL               string
	// access is what installing, upgrading and uninstalling need.
	access []access
}

// DefaultNamespace is the control plane namespace of mesh ("" if unknown).
func DefaultNamespace(mesh string) string {
	if s, ok := spec(mesh); ok {
		return s.defaultNamespace
	}
	return ""
}

func spec(mesh string) (meshSpec, bool) {
	switch mesh {
	case Istio:
		// Istio 1.31 is the release installed by default (istio.DefaultVersion):
		// its istioctl refuses below 1.32 (k8sversion.MinK8SVersion) and
		// istio.io's support table lists 1.32 to 1.36. Keep in step with it.
		return meshSpec{
			name: Istio, title: "Istio 1.31", defaultNamespace: "istio-system",
			minMinor: 32, maxTestedMinor: 36,
			supportURL: "https://istio.io/latest/docs/releases/supported-releases/",
			access:     istioAccess(),
		}, true
	case Linkerd:
		// linkerd.io/2/reference/k8s-versions: 2.19 and the edge releases
		// after it need 1.29 and were tested up to 1.34.
		return meshSpec{
			name: Linkerd, title: "Linkerd edge", defaultNamespace: "linkerd",
			minMinor: 29, maxTestedMinor: 34,
			supportURL: "https://linkerd.io/2/reference/k8s-versions/",
			access:     linkerdAccess(),
		}, true
	}
	return meshSpec{}, false
}

// Run checks whether mesh ("istio" or "linkerd") can be installed into
// namespace ("" means the mesh's default). When the cluster cannot be
// reached it returns that single failed result (see Unreachable).
func Run(ctx context.Context, clientset kubernetes.Interface, disc discovery.DiscoveryInterface, mesh, namespace string) []Result {
	s, ok := spec(mesh)
	if !ok {
		return []Result{{Category: CategoryAPI, Name: "mesh is known", Status: StatusFailed,
			Message: fmt.Sprintf("unknown mesh %q", mesh), Hint: "use istio or linkerd"}}
	}
	if namespace == "" {
		namespace = s.defaultNamespace
	}
	reach, server := checkAPI(disc)
	if reach.Err != nil {
		return []Result{reach}
	}
	results := []Result{reach, checkVersion(s, server)}
	results = append(results, checkPermissions(ctx, clientset, s, namespace))
	groups, groupsErr := servedGroups(disc)
	results = append(results, checkConflicts(ctx, clientset, disc, s, groups, groupsErr)...)
	results = append(results, checkCRDs(disc, s, groups, groupsErr)...)
	results = append(results, checkNamespaces(ctx, clientset, s, namespace)...)
	return results
}

// Unreachable returns why the cluster could not be reached, or nil.
func Unreachable(results []Result) error {
	for _, r := range results {
		if r.Category == CategoryAPI && r.Err != nil {
			return r.Err
		}
	}
	return nil
}
