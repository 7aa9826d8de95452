package istio

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// ReleaseRef names a release to uninstall.
type ReleaseRef struct {
	Name, Namespace, Component, Revision string
}

// Usage is what still depends on a revision.
type Usage struct {
	// Namespaces labelled to inject the revision (directly or via a tag).
	Namespaces []string `json:"namespaces,omitempty"`
	// Pods ("namespace/name") running the revision's proxies.
	Pods []string `json:"pods,omitempty"`
}

// InUse reports true when anything still depends on the revision.
func (u *Usage) InUse() bool { return len(u.Namespaces) > 0 || len(u.Pods) > 0 }

// ValidateUninstall accepts every uninstall flag.
func (*Istio) ValidateUninstall(mesh.UninstallOptions) error { return nil }

// InUse names the namespaces enrolled for the revision and the pods running
// its proxies (the package function InUse has them apart).
func (*Istio) InUse(ctx context.Context, c mesh.Cluster, opts mesh.UninstallOptions) ([]string, error) {
	u, err := InUse(ctx, c, opts.Revision)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range u.Namespaces {
		out = append(out, "namespace "+ns)
	}
	for _, pod := range u.Pods {
		out = append(out, "pod "+pod)
	}
	return out, nil
}

// UninstallPlan is the package function UninstallPlan as the contract has it.
func (*Istio) UninstallPlan(ctx context.Context, c mesh.Cluster, opts mesh.UninstallOptions) ([]lifecycle.Release, error) {
	refs, err := UninstallPlan(ctx, c, opts.Revision, opts.Purge)
	if err != nil {
		return nil, err
	}
	rels := make([]lifecycle.Release, 0, len(refs))
	for _, r := range refs {
		rels = append(rels, lifecycle.Release{Name: r.Name, Namespace: r.Namespace, Component: r.Component})
	}
	return rels, nil
}

// Purge deletes Istio's CRDs, which the base chart keeps on uninstall.
func (*Istio) Purge(ctx context.Context, c mesh.Cluster, opts mesh.UninstallOptions) (string, error) {
	crds, err := PurgeCRDs(ctx, c, opts.Timeout, opts.Warn)
	if err != nil {
		return "", fmt.Errorf("purging Istio's CRDs: %w", err)
	}
	if len(crds) == 0 {
		return "", nil
	}
	return fmt.Sprintf("deleted %d Istio CRDs and every resource of them", len(crds)), nil
}

// uninstallOrder removes dependents first: gateways use istiod, istiod
// uses base's CRDs and webhooks.
func uninstallOrder(component string) int {
	return slices.Index([]string{compGateway, compIstiod, compZtunnel, compCNI, compBase}, component)
}

// UninstallPlan returns the installed releases to remove, in order: the
// revision's gateways, its istiod, then the shared ztunnel, cni and base
// only when no other control plane revision remains. purge removes every
// revision and the shared releases (as istioctl uninstall --purge). An
// empty result means nothing is installed, so a second uninstall is a no-op.
func UninstallPlan(ctx context.Context, c mesh.Cluster, revision string, purge bool) ([]ReleaseRef, error) {
	revision = revisionOrDefault(revision)
	rels, err := istioReleases(c.Clientset)
	if err != nil {
		return nil, err
	}
	var plan []ReleaseRef
	others := false
	for _, r := range rels {
		ref := ReleaseRef{Name: r.Name, Namespace: r.Namespace, Component: r.Component, Revision: r.Revision}
		switch r.Component {
		case compGateway, compIstiod:
			if purge || r.Revision == revision {
				plan = append(plan, ref)
			} else if r.Component == compIstiod {
				others = true
			}
		default:
			plan = append(plan, ref) // shared; dropped below when others remain
		}
	}
	if !purge && !others {
		// Control planes installed without Helm count as remaining revisions too.
		list, err := c.Clientset.AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: IstiodSelector})
		if err != nil {
			return nil, fmt.Errorf("listing istiod Deployments: %w", err)
		}
		for _, d := range list.Items {
			if revisionOrDefault(d.Labels[RevLabel]) != revision {
				others = true
			}
		}
	}
	if others && !purge {
		plan = slices.DeleteFunc(plan, func(r ReleaseRef) bool {
			return r.Component != compGateway && r.Component != compIstiod
		})
	}
	slices.SortStableFunc(plan, func(a, b ReleaseRef) int { return uninstallOrder(a.Component) - uninstallOrder(b.Component) })
	return plan, nil
}

// InUse returns the namespaces labelled for the revision's injection (by
// revision, by a tag pointing at it, or istio-injection=enabled for the
// default revision) and the pods carrying its proxies.
func InUse(ctx context.Context, c mesh.Cluster, revision string) (*Usage, error) {
	revision = revisionOrDefault(revision)
	tags, err := listTags(ctx, c)
	if err != nil {
		return nil, err
	}
	tagRev := map[string]string{}
	names := []string{revision}
	for _, t := range tags {
		tagRev[t.Tag] = t.Revision
		if t.Revision == revision {
			names = append(names, t.Tag)
		}
	}
	u := &Usage{}
	for _, n := range names {
		nss, err := namespacesWithRev(ctx, c.Clientset, n)
		if err != nil {
			return nil, err
		}
		u.Namespaces = append(u.Namespaces, nss...)
	}
	// istio-injection=enabled goes to the default injector, or to the
	// revision the "default" tag points at.
	if def, ok := tagRev[DefaultRevision]; (ok && def == revision) || (!ok && revision == DefaultRevision) {
		list, err := c.Clientset.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: InjectLabel + "=enabled"})
		if err != nil {
			return nil, fmt.Errorf("listing injected namespaces: %w", err)
		}
		for _, ns := range list.Items {
			u.Namespaces = append(u.Namespaces, ns.Name)
		}
	}
	slices.Sort(u.Namespaces)
	u.Namespaces = slices.Compact(u.Namespaces)

	pods, err := c.Clientset.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		_, rev, ok := proxyOf(p)
		if !ok {
			continue
		}
		if r, isTag := tagRev[rev]; isTag {
			rev = r
		}
		if rev == revision {
			u.Pods = append(u.Pods, p.Namespace+"/"+p.Name)
		}
	}
	slices.Sort(u.Pods)
	return u, nil
}

// PurgeCRDs deletes Istio's CustomResourceDefinitions (*.istio.io), which
// base keeps on uninstall (helm.sh/resource-policy: keep), and with them
// every Istio resource, and waits up to timeout until they are gone: a
// reinstall would fail on CRDs still terminating. It returns the names
// deleted; warn, when not nil, hears of a stalled cleanup requeued.
func PurgeCRDs(ctx context.Context, c mesh.Cluster, timeout time.Duration, warn func(string)) ([]string, error) {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	list, err := crds.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing CustomResourceDefinitions: %w", err)
	}
	var names []string
	for _, crd := range list.Items {
		if strings.HasSuffix(crd.GetName(), ".istio.io") {
			names = append(names, crd.GetName())
		}
	}
	slices.Sort(names)
	return c.Helm.DeleteCRDs(ctx, names, timeout, warn)
}
