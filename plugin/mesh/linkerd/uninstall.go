package linkerd

import (
	"cmp"
	"context"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// ValidateUninstall refuses --revision: Linkerd has one control plane.
func (*Linkerd) ValidateUninstall(opts mesh.UninstallOptions) error {
	if opts.Revision != "" {
		return fmt.Errorf("--revision is an Istio flag; %s has one control plane", MeshName)
	}
	return nil
}

// Purge has nothing to do: the plan's linkerd-crds release takes the CRDs.
func (*Linkerd) Purge(context.Context, mesh.Cluster, mesh.UninstallOptions) (string, error) {
	return "", nil
}

// UninstallPlan returns the releases to uninstall from namespace (empty:
// linkerd), in reverse install order: the control plane, then, with purge
// only, linkerd-crds, whose removal deletes Linkerd's CRDs and every
// policy resource with them. Releases are the ones found in the cluster
// (kubectl mesh's or plain helm's); without a cluster, the default names.
func (l *Linkerd) UninstallPlan(ctx context.Context, c mesh.Cluster, opts mesh.UninstallOptions) ([]lifecycle.Release, error) {
	namespace := cmp.Or(opts.Namespace, DefaultNamespace)
	var rels []lifecycle.ReleaseInfo
	if helm := l.releases(&c); helm != nil {
		var err error
		if rels, err = linkerdReleases(ctx, helm, namespace); err != nil {
			return nil, err
		}
	} else {
		rels = []lifecycle.ReleaseInfo{
			{Name: CRDsChart, Namespace: namespace, Chart: CRDsChart},
			{Name: ControlPlaneChart, Namespace: namespace, Chart: ControlPlaneChart},
		}
	}
	var out []lifecycle.Release
	for i := len(rels) - 1; i >= 0; i-- {
		r := rels[i]
		if r.Chart == CRDsChart && !opts.Purge {
			continue
		}
		out = append(out, lifecycle.Release{Name: r.Name, Namespace: r.Namespace, Component: r.Chart, Labels: r.Labels})
	}
	return out, nil
}

// InUse lists what still uses the mesh, so that uninstall can refuse
// without --force: namespaces annotated linkerd.io/inject=enabled and pods
// running a linkerd-proxy, outside the control plane's own namespace.
func (*Linkerd) InUse(ctx context.Context, c mesh.Cluster, opts mesh.UninstallOptions) ([]string, error) {
	namespace := cmp.Or(opts.Namespace, DefaultNamespace)
	if c.Clientset == nil {
		return nil, nil
	}
	var out []string
	nss, err := c.Clientset.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	for _, ns := range nss.Items {
		if ns.Name != namespace && ns.Annotations[InjectAnnotation] == "enabled" {
			out = append(out, fmt.Sprintf("namespace %s is annotated %s=enabled", ns.Name, InjectAnnotation))
		}
	}
	pods, err := c.Clientset.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	var meshed []string
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Namespace == namespace {
			continue
		}
		if _, ok := proxyImage(p); ok {
			meshed = append(meshed, fmt.Sprintf("pod %s/%s runs %s", p.Namespace, p.Name, ProxyContainer))
		}
	}
	sort.Strings(meshed)
	return append(out, meshed...), nil
}
