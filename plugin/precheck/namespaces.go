package precheck

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
)

func checkNamespaces(ctx context.Context, clientset kubernetes.Interface, s meshSpec, namespace string) []Result {
	if s.name == Istio {
		return []Result{checkIstioNamespace(ctx, clientset, namespace), checkIstioInjectionLabels(ctx, clientset)}
	}
	return []Result{checkLinkerdNamespace(ctx, clientset, namespace)}
}

// checkIstioNamespace warns when the control plane namespace asks for
// injection: istiod's own pods would get sidecars from themselves.
func checkIstioNamespace(ctx context.Context, clientset kubernetes.Interface, namespace string) Result {
	r := Result{Category: CategoryNamespaces, Name: "control plane namespace is not labelled for injection"}
	ns, err := clientset.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		r.Status, r.Message = StatusOK, namespace+" does not exist yet: install creates it"
		return r
	case apierrors.IsForbidden(err):
		r.Status, r.Message = StatusWarning, "cannot read the namespace: "+err.Error()
		return r
	case err != nil:
		return incomplete(r, fmt.Errorf("reading namespace %s: %w", namespace, err))
	}
	var labels []string
	for _, k := range []string{istio.InjectLabel, istio.RevLabel} {
		if v, ok := ns.Labels[k]; ok && (k != istio.InjectLabel || v == "enabled") {
			labels = append(labels, k+"="+v)
		}
	}
	if len(labels) > 0 {
		r.Status = StatusWarning
		r.Message = fmt.Sprintf("%s is labelled %s: the control plane's own pods would be injected", namespace, strings.Join(labels, ", "))
		r.Hint = fmt.Sprintf("kubectl label namespace %s %s- %s-", namespace, istio.InjectLabel, istio.RevLabel)
		return r
	}
	r.Status, r.Message = StatusOK, namespace+" exists"
	return r
}

// checkIstioInjectionLabels finds namespaces with both injection labels
// (istioctl analyze IST0123): which one wins is not what users expect.
func checkIstioInjectionLabels(ctx context.Context, clientset kubernetes.Interface) Result {
	r := Result{Category: CategoryNamespaces, Name: "no namespace has both istio-injection and istio.io/rev"}
	list, err := clientset.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: istio.InjectLabel + "," + istio.RevLabel})
	switch {
	case apierrors.IsForbidden(err):
		r.Status, r.Message = StatusWarning, "cannot list namespaces: "+err.Error()
		return r
	case err != nil:
		return incomplete(r, fmt.Errorf("listing namespaces: %w", err))
	}
	if len(list.Items) == 0 {
		r.Status, r.Message = StatusOK, "none found"
		return r
	}
	names := make([]string, 0, len(list.Items))
	for _, ns := range list.Items {
		names = append(names, ns.Name)
	}
	r.Status = StatusWarning
	r.Message = "labelled with both (IST0123): " + strings.Join(names, ", ")
	r.Hint = "keep one of them: kubectl mesh inject enable -n NAMESPACE [--revision REVISION]"
	return r
}

// checkLinkerdNamespace warns about a linkerd namespace without a control
// plane, as linkerd check --pre does: it often holds the Secrets of an
// earlier install, which the charts cannot take over.
func checkLinkerdNamespace(ctx context.Context, clientset kubernetes.Interface, namespace string) Result {
	r := Result{Category: CategoryNamespaces, Name: "control plane namespace is new or holds the control plane"}
	_, err := clientset.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		r.Status, r.Message = StatusOK, namespace+" does not exist yet: install creates it"
		return r
	case apierrors.IsForbidden(err):
		r.Status, r.Message = StatusWarning, "cannot read the namespace: "+err.Error()
		return r
	case err != nil:
		return incomplete(r, fmt.Errorf("reading namespace %s: %w", namespace, err))
	}
	cp := controlPlaneOf(Linkerd)
	deps, err := clientset.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{LabelSelector: cp.selector})
	switch {
	case apierrors.IsForbidden(err):
		r.Status, r.Message = StatusWarning, namespace+" exists; cannot list its Deployments: "+err.Error()
		return r
	case err != nil:
		return incomplete(r, fmt.Errorf("listing Deployments in %s: %w", namespace, err))
	case len(deps.Items) > 0:
		r.Status, r.Message = StatusOK, namespace+" exists and holds the control plane (see "+CategoryConflicts+")"
		return r
	}
	r.Status = StatusWarning
	r.Message = namespace + " already exists without a control plane: left over from an earlier install?"
	r.Hint = fmt.Sprintf("if nothing in it is needed, delete it: kubectl delete namespace %s", namespace)
	return r
}
