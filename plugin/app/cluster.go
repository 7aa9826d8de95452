package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// Workload is one Deployment of a deployed app, as app status shows it.
type Workload struct {
	Name     string `json:"name"`
	Ready    bool   `json:"ready"`
	Replicas string `json:"replicas"`
	Message  string `json:"message,omitempty"`
	// Proxies counts the workload's pods that run the mesh's proxy, as
	// "with/pods"; empty without a mesh.
	Proxies string `json:"proxies,omitempty"`
}

// Workloads reads the Deployments of the app deployed in namespace, with
// their readiness and, when hasProxy is given, how many of their pods run
// the mesh's proxy.
func Workloads(ctx context.Context, cs kubernetes.Interface, namespace, name string, hasProxy func(*corev1.Pod) bool) ([]Workload, error) {
	sel := metav1.ListOptions{LabelSelector: LabelApp + "=" + name}
	deps, err := cs.AppsV1().Deployments(namespace).List(ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("listing the Deployments of %s: %w", name, err)
	}
	var pods []corev1.Pod
	if hasProxy != nil {
		list, err := cs.CoreV1().Pods(namespace).List(ctx, sel)
		if err != nil {
			return nil, fmt.Errorf("listing the pods of %s: %w", name, err)
		}
		pods = list.Items
	}
	out := make([]Workload, 0, len(deps.Items))
	for i := range deps.Items {
		d := &deps.Items[i]
		w := Workload{Name: d.Name}
		w.Ready, w.Replicas, w.Message = mesh.DeploymentReadiness(d)
		if hasProxy != nil {
			selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			if err != nil {
				return nil, fmt.Errorf("deployment %s: %w", d.Name, err)
			}
			var meshed, total int
			for j := range pods {
				if selector.Matches(labels.Set(pods[j].Labels)) {
					total++
					if hasProxy(&pods[j]) {
						meshed++
					}
				}
			}
			w.Proxies = fmt.Sprintf("%d/%d", meshed, total)
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b Workload) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Foreign lists what namespace holds beyond what Kubernetes puts in every
// namespace (the default ServiceAccount, the kube-root-ca.crt ConfigMap)
// and beyond the app's own objects, as "kind/name": deploy refuses such a
// namespace, so that delete, which deletes a namespace it created, cannot
// take them with it. It reads the kinds applications are made of.
func Foreign(ctx context.Context, cs kubernetes.Interface, namespace, name string) ([]string, error) {
	core, apps, opts := cs.CoreV1(), cs.AppsV1(), metav1.ListOptions{}
	builtIn := map[string]bool{
		"serviceaccount/default":             true,
		"configmap/kube-root-ca.crt":         true,
		"configmap/kubectl-mesh-app-" + name: true, // the app's apply set parent
	}
	kinds := []struct {
		kind string
		list func() ([]metav1.Object, error)
	}{
		{"deployment", func() ([]metav1.Object, error) { return metas(apps.Deployments(namespace).List(ctx, opts)) }},
		{"statefulset", func() ([]metav1.Object, error) { return metas(apps.StatefulSets(namespace).List(ctx, opts)) }},
		{"daemonset", func() ([]metav1.Object, error) { return metas(apps.DaemonSets(namespace).List(ctx, opts)) }},
		{"pod", func() ([]metav1.Object, error) { return metas(core.Pods(namespace).List(ctx, opts)) }},
		{"service", func() ([]metav1.Object, error) { return metas(core.Services(namespace).List(ctx, opts)) }},
		{"serviceaccount", func() ([]metav1.Object, error) { return metas(core.ServiceAccounts(namespace).List(ctx, opts)) }},
		{"configmap", func() ([]metav1.Object, error) { return metas(core.ConfigMaps(namespace).List(ctx, opts)) }},
		{"secret", func() ([]metav1.Object, error) { return metas(core.Secrets(namespace).List(ctx, opts)) }},
	}
	var out []string
	for _, k := range kinds {
		items, err := k.list()
		if err != nil {
			return nil, fmt.Errorf("reading namespace %s: %w", namespace, err)
		}
		for _, o := range items {
			// The app's objects, its workloads' pods and its apply set's
			// parent carry its label.
			if ref := k.kind + "/" + o.GetName(); !builtIn[ref] && o.GetLabels()[LabelApp] != name {
				out = append(out, ref)
			}
		}
	}
	return out, nil
}

// metas are the items of a typed list, as metav1.Objects.
func metas(list runtime.Object, err error) ([]metav1.Object, error) {
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]metav1.Object, 0, len(items))
	for _, item := range items {
		o, err := meta.Accessor(item)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}
