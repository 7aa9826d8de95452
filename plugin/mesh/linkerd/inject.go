package linkerd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// InjectAnnotation is how namespaces and workloads opt into Linkerd.
const InjectAnnotation = "linkerd.io/inject"

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

// JobPodMarks ask for a native sidecar: beta is the annotation's current
// name, alpha is what 2.15-2.16 read.
func (*Linkerd) JobPodMarks() (labels, annotations map[string]string) {
	return nil, map[string]string{
		InjectAnnotation: "enabled",
		"config.beta.linkerd.io/proxy-enable-native-sidecar":  "true",
		"config.alpha.linkerd.io/proxy-enable-native-sidecar": "true",
	}
}

// Detect looks for the linkerd-destination Deployment in Linkerd's default
// namespace, as linkerd check does.
func (*Linkerd) Detect(ctx context.Context, c mesh.Cluster) (bool, error) {
	_, err := c.Clientset.AppsV1().Deployments(DefaultNamespace).Get(ctx, "linkerd-destination", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading Deployment %s/linkerd-destination: %w", DefaultNamespace, err)
	}
	return true, nil
}
