package istio

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// revState gathers one control plane while Status reads the cluster.
type revState struct {
	rev       mesh.Revision
	namespace string
	imageTag  string // istiod's image tag, what proxies are compared with
	seen      bool   // an istiod was found (release or Deployment)
}

// Status reads the installed control planes (Helm releases, ours or plain
// helm's, and istiod Deployments of any installer), their tags and the
// sidecar proxies of every namespace.
func (i *Istio) Status(ctx context.Context, c mesh.Cluster) (*mesh.Status, error) {
	kube := c.Clientset
	rels, err := istioReleases(kube)
	if err != nil {
		return nil, err
	}
	revs := map[string]*revState{}
	get := func(name string) *revState {
		if r, ok := revs[name]; ok {
			return r
		}
		r := &revState{rev: mesh.Revision{Name: name}}
		revs[name] = r
		return r
	}

	var shared []mesh.Component
	sharedNS := ""
	for _, rel := range rels {
		comp := mesh.Component{Name: rel.Component, Release: rel.Name, Chart: rel.Chart + "-" + rel.ChartVersion}
		switch rel.Component {
		case compIstiod:
			r := get(rel.Revision)
			r.seen, r.namespace, r.rev.Version = true, rel.Namespace, rel.AppVersion
			d, err := getDeployment(ctx, kube, rel.Namespace, istiodName(rel.Revision))
			if err != nil {
				return nil, err
			}
			comp = workloadComponent(comp, d, nil, "Deployment "+istiodName(rel.Revision))
			if d != nil {
				r.imageTag = containerTag(d.Spec.Template.Spec.Containers, "discovery")
			}
			r.rev.Components = append(r.rev.Components, comp)
		case compGateway:
			name := stringValue(rel.Config, rel.Name, "name")
			d, err := getDeployment(ctx, kube, rel.Namespace, name)
			if err != nil {
				return nil, err
			}
			r := get(rel.Revision)
			r.rev.Components = append(r.rev.Components, workloadComponent(comp, d, nil, "Deployment "+name))
		case compCNI, compZtunnel:
			name := "istio-cni-node"
			if rel.Component == compZtunnel {
				name = stringValue(rel.Config, rel.Name, "resourceName")
			}
			ds, err := getDaemonSet(ctx, kube, rel.Namespace, name)
			if err != nil {
				return nil, err
			}
			shared = append(shared, workloadComponent(comp, nil, ds, "DaemonSet "+name))
		default: // base: CRDs and webhooks, ready once deployed
			comp.Ready = rel.Status == "deployed"
			if !comp.Ready {
				comp.Message = "release " + rel.Status
			}
			shared = append(shared, comp)
			sharedNS = rel.Namespace
		}
	}
	// Control planes installed by istioctl or the operator have no release.
	if err := addUnreleasedIstiods(ctx, kube, get); err != nil {
		return nil, err
	}

	tags, err := listTags(ctx, mesh.Cluster{Clientset: kube})
	if err != nil {
		return nil, err
	}
	tagRev := map[string]string{}
	for _, t := range tags {
		tagRev[t.Tag] = t.Revision
		if r, ok := revs[t.Revision]; ok {
			r.rev.Tags = append(r.rev.Tags, t.Tag)
		}
	}

	st := &mesh.Status{Mesh: MeshName}
	if len(revs) == 0 && len(shared) == 0 {
		return st, nil
	}
	st.Installed = true
	names := sortedKeys(revs)
	// default first: it is what unlabelled namespaces and status headers mean.
	if idx := slices.Index(names, DefaultRevision); idx > 0 {
		names = append([]string{DefaultRevision}, slices.Delete(names, idx, idx+1)...)
	}
	if len(names) == 0 {
		names = []string{DefaultRevision}
		get(DefaultRevision)
	}
	// Shared components (base, cni, ztunnel) are listed once, with the first revision.
	revs[names[0]].rev.Components = append(shared, revs[names[0]].rev.Components...)
	for _, n := range names {
		r := revs[n]
		if r.rev.Version == "" {
			r.rev.Version = r.imageTag
		}
		if !r.seen {
			st.Warnings = append(st.Warnings, fmt.Sprintf("revision %s: no istiod control plane found", n))
		}
		for _, comp := range r.rev.Components {
			if !comp.Ready {
				what := comp.Name
				if comp.Release != "" && comp.Release != comp.Name {
					what += " (release " + comp.Release + ")"
				}
				st.Warnings = append(st.Warnings, fmt.Sprintf("revision %s: %s is not ready: %s", n, what, firstNonEmpty(comp.Message, comp.Replicas+" ready")))
			}
		}
		st.Revisions = append(st.Revisions, r.rev)
	}
	first := revs[names[0]]
	st.Namespace = firstNonEmpty(first.namespace, sharedNS)
	st.Version = first.rev.Version

	proxies, err := countProxies(ctx, kube, tagRev)
	if err != nil {
		return nil, err
	}
	for _, p := range proxies {
		r, ok := revs[p.Revision]
		switch {
		case !ok || !r.seen:
			st.Warnings = append(st.Warnings, fmt.Sprintf("%d proxies of revision %s have no control plane: install the revision or move their namespaces to another one", p.Pods, p.Revision))
		case r.imageTag != "" && p.Version != r.imageTag:
			p.Skew = true
			st.Warnings = append(st.Warnings, fmt.Sprintf("%d proxies of revision %s run %s but its control plane runs %s: restart them (kubectl rollout restart)", p.Pods, p.Revision, p.Version, r.imageTag))
		}
		st.Proxies = append(st.Proxies, p)
	}
	return st, nil
}

// addUnreleasedIstiods adds istiod Deployments that no Helm release owns.
func addUnreleasedIstiods(ctx context.Context, kube kubernetes.Interface, get func(string) *revState) error {
	list, err := kube.AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: IstiodSelector})
	if err != nil {
		return fmt.Errorf("listing istiod Deployments: %w", err)
	}
	for i := range list.Items {
		d := &list.Items[i]
		rev := revisionOrDefault(d.Labels[RevLabel])
		r := get(rev)
		if r.seen {
			continue
		}
		r.seen, r.namespace = true, d.Namespace
		r.imageTag = containerTag(d.Spec.Template.Spec.Containers, "discovery")
		r.rev.Components = append(r.rev.Components,
			workloadComponent(mesh.Component{Name: compIstiod}, d, nil, "Deployment "+d.Name))
	}
	return nil
}

// countProxies groups sidecar pods by proxy version and revision; a pod's
// istio.io/rev naming a tag counts for the tag's revision.
func countProxies(ctx context.Context, kube kubernetes.Interface, tagRev map[string]string) ([]mesh.ProxyInfo, error) {
	pods, err := kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	type key struct{ version, rev string }
	counts := map[key]int{}
	var order []key
	for i := range pods.Items {
		version, rev, ok := proxyOf(&pods.Items[i])
		if !ok {
			continue
		}
		if r, ok := tagRev[rev]; ok {
			rev = r
		}
		k := key{version, rev}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	slices.SortFunc(order, func(a, b key) int {
		if a.rev != b.rev {
			return strings.Compare(a.rev, b.rev)
		}
		return strings.Compare(a.version, b.version)
	})
	out := make([]mesh.ProxyInfo, 0, len(order))
	for _, k := range order {
		out = append(out, mesh.ProxyInfo{Version: k.version, Revision: k.rev, Pods: counts[k]})
	}
	return out, nil
}

// proxyOf returns the sidecar's image tag and revision of an injected pod.
func proxyOf(pod *corev1.Pod) (version, rev string, ok bool) {
	containers := append(slices.Clone(pod.Spec.Containers), pod.Spec.InitContainers...) // native sidecars are init containers
	idx := slices.IndexFunc(containers, func(c corev1.Container) bool { return c.Name == proxyContainer })
	status, annotated := pod.Annotations[annSidecar]
	if idx < 0 && !annotated {
		return "", "", false
	}
	if idx >= 0 {
		version = imageTag(containers[idx].Image)
	}
	rev = pod.Labels[RevLabel]
	if rev == "" && annotated {
		var s struct {
			Revision string `json:"revision"`
		}
		if json.Unmarshal([]byte(status), &s) == nil {
			rev = s.Revision
		}
	}
	return firstNonEmpty(version, "unknown"), revisionOrDefault(rev), true
}

// workloadComponent fills readiness from a Deployment or DaemonSet (nil: missing).
func workloadComponent(comp mesh.Component, d *appsv1.Deployment, ds *appsv1.DaemonSet, what string) mesh.Component {
	switch {
	case d != nil:
		comp.Ready, comp.Replicas, _ = mesh.DeploymentReadiness(d)
	case ds != nil:
		comp.Ready, comp.Replicas = daemonSetReady(ds)
	default:
		comp.Message = what + " not found"
	}
	return comp
}

func getDeployment(ctx context.Context, kube kubernetes.Interface, ns, name string) (*appsv1.Deployment, error) {
	d, err := kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Deployment %s/%s: %w", ns, name, err)
	}
	return d, nil
}

func getDaemonSet(ctx context.Context, kube kubernetes.Interface, ns, name string) (*appsv1.DaemonSet, error) {
	d, err := kube.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading DaemonSet %s/%s: %w", ns, name, err)
	}
	return d, nil
}

// istiodName is istiod's Deployment and Service name for a revision.
func istiodName(rev string) string {
	if rev == "" || rev == DefaultRevision {
		return "istiod"
	}
	return "istiod-" + rev
}

func containerTag(cs []corev1.Container, name string) string {
	for _, c := range cs {
		if c.Name == name {
			return imageTag(c.Image)
		}
	}
	return ""
}

// stringValue reads a string at path in Helm values, or def.
func stringValue(vals map[string]any, def string, path ...string) string {
	var cur any = vals
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return def
		}
		cur = m[p]
	}
	if s, ok := cur.(string); ok && s != "" {
		return s
	}
	return def
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
