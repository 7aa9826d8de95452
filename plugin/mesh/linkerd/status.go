package linkerd

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// controlPlaneDeployments are the Deployments every Linkerd control plane
// runs; status reports each one's readiness.
var controlPlaneDeployments = []string{"linkerd-destination", "linkerd-identity", "linkerd-proxy-injector"}

// ProxyContainer is the name of Linkerd's sidecar.
const ProxyContainer = "linkerd-proxy"

// Status reads the installed Linkerd: its Helm releases (labelled by
// kubectl mesh or named like Linkerd's charts, so plain helm installs
// count), the control plane Deployments, the data-plane proxies by version
// and the trust anchor and issuer certificates' expiry. It reads no key.
func (l *Linkerd) Status(ctx context.Context, c mesh.Cluster) (*mesh.Status, error) {
	st := &mesh.Status{Mesh: MeshName, Namespace: DefaultNamespace}
	var rels []lifecycle.ReleaseInfo
	if helm := l.releases(&c); helm != nil {
		var err error
		if rels, err = linkerdReleases(ctx, helm, ""); err != nil {
			return nil, err
		}
	}
	var cp *lifecycle.ReleaseInfo
	for i := range rels {
		if rels[i].Chart == ControlPlaneChart {
			cp = &rels[i]
		}
	}
	if cp != nil {
		st.Namespace = cp.Namespace
	} else if len(rels) > 0 {
		st.Namespace = rels[0].Namespace
	}

	rev := mesh.Revision{Name: "default"}
	for _, r := range rels {
		if r.Namespace != st.Namespace {
			continue
		}
		comp := mesh.Component{Name: r.Chart, Release: r.Name, Chart: r.Chart + "-" + r.ChartVersion, Ready: r.Status == "deployed"}
		if !comp.Ready {
			comp.Message = "release " + r.Status
			st.Warnings = append(st.Warnings, fmt.Sprintf("release %s in namespace %s is %s", r.Name, r.Namespace, r.Status))
		}
		rev.Components = append(rev.Components, comp)
	}

	deployments, found, err := controlPlane(ctx, c, st.Namespace)
	if err != nil {
		return nil, err
	}
	rev.Components = append(rev.Components, deployments...)
	for _, d := range deployments {
		if !d.Ready {
			st.Warnings = append(st.Warnings, fmt.Sprintf("%s in namespace %s is not ready: %s", d.Name, st.Namespace, d.Message))
		}
	}
	// Installed means a control plane: a CRDs release alone is not a mesh.
	st.Installed = cp != nil || found
	if !st.Installed {
		for _, r := range rels {
			st.Warnings = append(st.Warnings, fmt.Sprintf("release %s remains in namespace %s without a control plane (kubectl mesh uninstall linkerd --purge removes it)", r.Name, r.Namespace))
		}
		if len(rels) == 0 {
			st.Namespace = ""
		}
		return st, nil
	}

	switch {
	case cp != nil && cp.AppVersion != "":
		st.Version = cp.AppVersion
	default:
		st.Version = controllerVersion(ctx, c, st.Namespace)
	}
	rev.Version = st.Version
	st.Revisions = []mesh.Revision{rev}

	if st.Proxies, err = proxies(ctx, c, st.Version); err != nil {
		return nil, err
	}
	for _, p := range st.Proxies {
		if p.Skew {
			st.Warnings = append(st.Warnings, fmt.Sprintf("%d pod(s) run proxy %s while the control plane is %s: restart them (kubectl rollout restart) to pick up the new proxy", p.Pods, p.Version, st.Version))
		}
	}

	certs, warnings, err := certificates(ctx, c, st.Namespace, l.now())
	if err != nil {
		return nil, err
	}
	st.Certificates = certs
	st.Warnings = append(st.Warnings, warnings...)
	return st, nil
}

// linkerdReleases lists the Linkerd releases, all namespaces or one: those
// kubectl mesh labelled, and those of Linkerd's charts installed by helm.
func linkerdReleases(ctx context.Context, helm releaseReader, ns string) ([]lifecycle.ReleaseInfo, error) {
	all, err := helm.List(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("listing Helm releases: %w", err)
	}
	var out []lifecycle.ReleaseInfo
	for _, r := range all {
		if (ns != "" && r.Namespace != ns) || r.Status == "uninstalled" {
			continue
		}
		if r.Labels[LabelMesh] == MeshName || r.Chart == CRDsChart || r.Chart == ControlPlaneChart {
			out = append(out, r)
		}
	}
	// CRDs first, as they are applied.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Chart == CRDsChart && out[j].Chart != CRDsChart })
	return out, nil
}

// controlPlane reports the control plane Deployments in ns; found is true
// when any exists (Linkerd installed by `linkerd install` has no release).
func controlPlane(ctx context.Context, c mesh.Cluster, ns string) (comps []mesh.Component, found bool, err error) {
	if c.Clientset == nil {
		return nil, false, nil
	}
	for _, name := range controlPlaneDeployments {
		d, err := c.Clientset.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			comps = append(comps, mesh.Component{Name: name, Message: "not found"})
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading deployment %s/%s: %w", ns, name, err)
		}
		found = true
		comps = append(comps, deploymentComponent(d))
	}
	if !found {
		return nil, false, nil
	}
	return comps, true, nil
}

// deploymentComponent is a Deployment as status shows it.
func deploymentComponent(d *appsv1.Deployment) mesh.Component {
	comp := mesh.Component{Name: d.Name}
	comp.Ready, comp.Replicas, comp.Message = mesh.DeploymentReadiness(d)
	return comp
}

// controllerVersion is the image tag of linkerd-destination's controller,
// for control planes without a Helm release.
func controllerVersion(ctx context.Context, c mesh.Cluster, ns string) string {
	if c.Clientset == nil {
		return ""
	}
	d, err := c.Clientset.AppsV1().Deployments(ns).Get(ctx, "linkerd-destination", metav1.GetOptions{})
	if err != nil {
		return ""
	}
	if v := d.Labels["app.kubernetes.io/version"]; v != "" {
		return v
	}
	for _, ctr := range d.Spec.Template.Spec.Containers {
		if ctr.Name != ProxyContainer {
			return imageTag(ctr.Image)
		}
	}
	return ""
}

// proxies counts pods with a linkerd-proxy container (a sidecar, or a
// native sidecar among the init containers) by proxy version.
func proxies(ctx context.Context, c mesh.Cluster, cpVersion string) ([]mesh.ProxyInfo, error) {
	if c.Clientset == nil {
		return nil, nil
	}
	pods, err := c.Clientset.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	counts := map[string]int{}
	for i := range pods.Items {
		if img, ok := proxyImage(&pods.Items[i]); ok {
			counts[imageTag(img)]++
		}
	}
	var out []mesh.ProxyInfo
	for v, n := range counts {
		out = append(out, mesh.ProxyInfo{Version: v, Pods: n, Skew: cpVersion != "" && v != cpVersion})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

func proxyImage(p *corev1.Pod) (string, bool) {
	for _, list := range [][]corev1.Container{p.Spec.Containers, p.Spec.InitContainers} {
		for _, ctr := range list {
			if ctr.Name == ProxyContainer {
				return ctr.Image, true
			}
		}
	}
	return "", false
}

// imageTag is the tag of an image reference ("" when it has none).
func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndex(image, ":"); i > slash {
		return image[i+1:]
	}
	return ""
}
