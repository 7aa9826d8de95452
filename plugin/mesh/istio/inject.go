package istio

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// ValidateInjection accepts every revision or tag name.
func (*Istio) ValidateInjection(string) error { return nil }

// InjectionMarks labels istio-injection=enabled, or istio.io/rev=REVISION
// for a revision or tag, and removes the other label: a namespace with both
// is ambiguous (IST0123) and istio-injection wins. Disabling removes both.
func (*Istio) InjectionMarks(enable bool, revision string) mesh.Marks {
	labels := map[string]*string{InjectLabel: nil, RevLabel: nil}
	switch {
	case enable && revision != "":
		labels[RevLabel] = &revision
	case enable:
		labels[InjectLabel] = mesh.Enabled()
	}
	return mesh.Marks{Labels: labels}
}

// MissingInjector looks for the sidecar injector webhook of the revision or
// tag (istio-sidecar-injector for the default revision).
func (*Istio) MissingInjector(ctx context.Context, c mesh.Cluster, revision string) (string, error) {
	hooks, err := c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("listing mutating webhooks: %w", err)
	}
	want := revisionOrDefault(revision)
	for _, h := range hooks.Items {
		if h.Labels[RevLabel] == want || h.Labels[labelTag] == want || (revision == "" && h.Name == "istio-sidecar-injector") {
			return "", nil
		}
	}
	return fmt.Sprintf("Istio revision or tag %q", want), nil
}

// HasProxy reports an istio-proxy container or native sidecar, or the
// injector's status annotation.
func (*Istio) HasProxy(pod *corev1.Pod) bool {
	_, _, ok := proxyOf(pod)
	return ok
}

// ProxyContainer is istio-proxy.
func (*Istio) ProxyContainer() string { return proxyContainer }

// ControlPlaneSelector finds istiod's pods, of every revision.
func (*Istio) ControlPlaneSelector() string { return IstiodSelector }

// JobPodMarks ask for a native sidecar, which takes precedence over
// istiod's ENABLE_NATIVE_SIDECARS, and hold the job until it is ready.
func (*Istio) JobPodMarks() (labels, annotations map[string]string) {
	return map[string]string{"sidecar.istio.io/inject": "true"}, map[string]string{
		"sidecar.istio.io/nativeSidecar": "true",
		"proxy.istio.io/config":          `{ "holdApplicationUntilProxyStarts": true }`,
	}
}

// Detect looks for istiod Deployments in every namespace, whoever
// installed them.
func (*Istio) Detect(ctx context.Context, c mesh.Cluster) (bool, error) {
	list, err := c.Clientset.AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: IstiodSelector, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("listing istiod Deployments: %w", err)
	}
	return len(list.Items) > 0, nil
}
