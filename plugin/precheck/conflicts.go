package precheck

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/linkerd"
)

// Labels and annotations that tell who installed a control plane.
const (
	helmReleaseAnnotation   = "meta.helm.sh/release-name"
	helmNamespaceAnnotation = "meta.helm.sh/release-namespace"
	meshReleaseLabel        = "kubectl-mesh.io/mesh"
)

// controlPlane says how to recognize a mesh in a cluster.
type controlPlane struct {
	title string
	// selector finds the control plane's main Deployment in any namespace.
	selector string
	// groupSuffix matches the API groups of the mesh's CRDs.
	groupSuffix string
	// removal is how to remove an install kubectl mesh cannot adopt.
	removal string
}

func controlPlaneOf(mesh string) controlPlane {
	if mesh == Linkerd {
		return controlPlane{title: "Linkerd", selector: linkerd.DestinationSelector, groupSuffix: "linkerd.io",
			removal: "keep upgrading it with linkerd upgrade, or remove it first: linkerd uninstall | kubectl delete -f -"}
	}
	return controlPlane{title: "Istio", selector: istio.IstiodSelector, groupSuffix: "istio.io",
		removal: "keep upgrading it with istioctl, or remove it first: istioctl uninstall --purge"}
}

func otherMesh(mesh string) string {
	if mesh == Istio {
		return Linkerd
	}
	return Istio
}

func checkConflicts(ctx context.Context, clientset kubernetes.Interface, disc discovery.DiscoveryInterface, s meshSpec, groups map[string][]string, groupsErr error) []Result {
	results := []Result{
		checkOtherMesh(ctx, clientset, otherMesh(s.name), groups, groupsErr),
		checkOwnControlPlane(ctx, clientset, s.name),
	}
	if s.name == Istio {
		results = append(results, checkIstioOperator(disc, groups, groupsErr))
	}
	return results
}

// servedGroups lists the API groups the cluster serves, with their versions.
func servedGroups(disc discovery.DiscoveryInterface) (map[string][]string, error) {
	list, err := disc.ServerGroups()
	if err != nil {
		return nil, fmt.Errorf("listing the API groups: %w", err)
	}
	groups := map[string][]string{}
	for _, g := range list.Groups {
		for _, v := range g.Versions {
			groups[g.Name] = append(groups[g.Name], v.Version)
		}
	}
	return groups, nil
}

func groupsWithSuffix(groups map[string][]string, suffix string) []string {
	var names []string
	for g := range groups {
		if g == suffix || strings.HasSuffix(g, "."+suffix) {
			names = append(names, g)
		}
	}
	slices.Sort(names)
	return names
}

// checkOtherMesh warns about the other mesh: running both works only when no
// namespace is injected by both, which is easy to get wrong.
func checkOtherMesh(ctx context.Context, clientset kubernetes.Interface, other string, groups map[string][]string, groupsErr error) Result {
	cp := controlPlaneOf(other)
	r := Result{Category: CategoryConflicts, Name: "no " + cp.title + " control plane or CRDs"}
	deps, err := listControlPlanes(ctx, clientset, cp)
	switch {
	case err != nil && !apierrors.IsForbidden(err):
		return incomplete(r, err)
	case groupsErr != nil:
		return incomplete(r, groupsErr)
	case len(deps) > 0:
		r.Status = StatusWarning
		r.Message = fmt.Sprintf("%s runs in this cluster (%s)", cp.title, describeDeployments(deps))
		r.Hint = fmt.Sprintf("never inject a namespace with both meshes; to replace %s, move the workloads, then kubectl mesh uninstall %s", cp.title, other)
	case len(groupsWithSuffix(groups, cp.groupSuffix)) > 0:
		r.Status = StatusWarning
		r.Message = fmt.Sprintf("%s CRDs are installed without a control plane (%s)", cp.title, strings.Join(groupsWithSuffix(groups, cp.groupSuffix), ", "))
		r.Hint = fmt.Sprintf("left over from an uninstall? kubectl mesh uninstall %s --purge removes them", other)
	case err != nil:
		r.Status = StatusWarning
		r.Message = fmt.Sprintf("no %s CRDs; cannot list Deployments to look for its control plane: %v", cp.title, err)
	default:
		r.Status = StatusOK
		r.Message = "none found"
	}
	return r
}

// checkOwnControlPlane fails on a control plane of the same mesh that Helm
// does not manage (istioctl, linkerd install | kubectl apply): Helm refuses
// to adopt its resources, so the install would fail half way.
func checkOwnControlPlane(ctx context.Context, clientset kubernetes.Interface, mesh string) Result {
	cp := controlPlaneOf(mesh)
	r := Result{Category: CategoryConflicts, Name: "no " + cp.title + " control plane installed by another tool"}
	deps, err := listControlPlanes(ctx, clientset, cp)
	if apierrors.IsForbidden(err) {
		r.Status, r.Message = StatusWarning, "cannot list Deployments to look for one: "+err.Error()
		return r
	}
	if err != nil {
		return incomplete(r, err)
	}
	if len(deps) == 0 {
		r.Status, r.Message = StatusOK, "none found"
		return r
	}
	r.Status = StatusOK
	var messages, hints []string
	for _, d := range deps {
		status, message, hint := ownership(ctx, clientset, d, cp)
		if severity(status) > severity(r.Status) {
			r.Status = status
		}
		messages = append(messages, message)
		if hint != "" && !slices.Contains(hints, hint) {
			hints = append(hints, hint)
		}
	}
	r.Message, r.Hint = strings.Join(messages, "; "), strings.Join(hints, "; ")
	return r
}

// ownership tells who manages one control plane Deployment.
func ownership(ctx context.Context, clientset kubernetes.Interface, d appsv1.Deployment, cp controlPlane) (Status, string, string) {
	where := d.Name + " in " + d.Namespace
	release := d.Annotations[helmReleaseAnnotation]
	if release == "" {
		return StatusFailed, where + " was not installed with Helm (istioctl, linkerd install or kubectl apply)",
			"kubectl mesh cannot adopt it: " + cp.removal
	}
	releaseNS := d.Annotations[helmNamespaceAnnotation]
	if releaseNS == "" {
		releaseNS = d.Namespace
	}
	secrets, err := clientset.CoreV1().Secrets(releaseNS).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=" + release})
	if err != nil {
		return StatusWarning, fmt.Sprintf("%s belongs to the Helm release %s/%s; cannot tell whether kubectl mesh installed it: %v", where, releaseNS, release, err), ""
	}
	for _, s := range secrets.Items {
		if s.Labels[meshReleaseLabel] != "" {
			return StatusOK, fmt.Sprintf("%s is managed by kubectl mesh (Helm release %s/%s): install upgrades it", where, releaseNS, release), ""
		}
	}
	return StatusWarning, fmt.Sprintf("%s belongs to the Helm release %s/%s, which kubectl mesh did not install", where, releaseNS, release),
		fmt.Sprintf("keep managing it with helm, or remove it first (helm uninstall %s -n %s): kubectl mesh install cannot take over resources another release owns", release, releaseNS)
}

// checkIstioOperator warns about the IstioOperator CRD: istioctl or the
// retired in-cluster operator installed Istio here before.
func checkIstioOperator(disc discovery.DiscoveryInterface, groups map[string][]string, groupsErr error) Result {
	r := Result{Category: CategoryConflicts, Name: "no IstioOperator CRD"}
	if groupsErr != nil {
		return incomplete(r, groupsErr)
	}
	for _, v := range groups["install.istio.io"] {
		list, err := disc.ServerResourcesForGroupVersion("install.istio.io/" + v)
		if err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return incomplete(r, err)
		}
		if slices.ContainsFunc(list.APIResources, func(a metav1.APIResource) bool { return a.Name == "istiooperators" }) {
			r.Status = StatusWarning
			r.Message = "istiooperators.install.istio.io is installed: istioctl or the Istio operator installed Istio here before"
			r.Hint = "if no IstioOperator is in use any more, delete it: kubectl delete crd istiooperators.install.istio.io"
			return r
		}
	}
	r.Status, r.Message = StatusOK, "not installed"
	return r
}

func listControlPlanes(ctx context.Context, clientset kubernetes.Interface, cp controlPlane) ([]appsv1.Deployment, error) {
	list, err := clientset.AppsV1().Deployments(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: cp.selector})
	if err != nil {
		return nil, fmt.Errorf("listing Deployments (%s): %w", cp.selector, err)
	}
	return list.Items, nil
}

func describeDeployments(deps []appsv1.Deployment) string {
	names := make([]string, 0, len(deps))
	for _, d := range deps {
		names = append(names, d.Name+" in "+d.Namespace)
	}
	return strings.Join(names, ", ")
}

// incomplete marks a check that could not read the cluster.
func incomplete(r Result, err error) Result {
	r.Status, r.Message, r.Err = StatusWarning, "cannot check: "+err.Error(), err
	return r
}

func severity(s Status) int {
	switch s {
	case StatusFailed:
		return 2
	case StatusWarning:
		return 1
	}
	return 0
}
