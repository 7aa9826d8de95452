package linkerd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

const (
	// InjectAnnotation is how namespaces and workloads opt into Linkerd.
	InjectAnnotation = "linkerd.io/inject"
	// DestinationSelector finds the destination controller's Deployment,
	// installed by Linkerd's chart or by linkerd install.
	DestinationSelector = "linkerd.io/control-plane-component=destination"
)

// ValidateInjection refuses revisions, which Linkerd does not have.
func (*Linkerd) ValidateInjection(revision string) error {
	if revision != "" {
		return errors.New("--revision applies to Istio only: drop it, or use --mesh istio")
	}
	return nil
}

// InjectionMarks annotates linkerd.io/inject=enabled, or removes it.
func (*Linkerd) InjectionMarks(enable bool, _ string) mesh.Marks {
	var v *string
	if enable {
		v = mesh.Enabled()
	}
	return mesh.Marks{Annotations: map[string]*string{InjectAnnotation: v}}
}

// MissingInjector looks for the proxy injector's webhook configuration.
func (*Linkerd) MissingInjector(ctx context.Context, c mesh.Cluster, _ string) (string, error) {
	hooks, err := c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("listing mutating webhooks: %w", err)
	}
	for _, h := range hooks.Items {
		if strings.HasPrefix(h.Name, "linkerd-proxy-injector") {
			return "", nil
		}
	}
	return "the Linkerd proxy injector", nil
}

// HasProxy reports a linkerd-proxy container or native sidecar.
func (*Linkerd) HasProxy(pod *corev1.Pod) bool {
	_, ok := proxyImage(pod)
	return ok
}

// ProxyContainer is linkerd-proxy.
func (*Linkerd) ProxyContainer() string { return ProxyContainer }

// ControlPlaneSelector finds the pods of every control-plane component
// (destination, identity, proxy injector).
func (*Linkerd) ControlPlaneSelector() string { return "linkerd.io/control-plane-component" }

// JobPodMarks ask for a native sidecar: beta is the annotation's current
// name, alpha is what 2.15-2.16 read.
func (*Linkerd) JobPodMarks() (labels, annotations map[string]string) {
	return nil, map[string]string{
		InjectAnnotation: "enabled",
		"config.beta.linkerd.io/proxy-enable-native-sidecar":  "true",
		"config.alpha.linkerd.io/proxy-enable-native-sidecar": "true",
	}
}

// Detect looks for the destination controller in every namespace, by the
// label both Linkerd's chart and linkerd install give it.
func (*Linkerd) Detect(ctx context.Context, c mesh.Cluster) (bool, error) {
	list, err := c.Clientset.AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: DestinationSelector, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("listing Linkerd's destination Deployments: %w", err)
	}
	return len(list.Items) > 0, nil
}
