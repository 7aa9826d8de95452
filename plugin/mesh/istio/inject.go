package istio

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// EnableInjection labels namespace for sidecar injection: an empty or
// "default" revision sets istio-injection=enabled, any other revision or tag
// sets istio.io/rev=<revision>. The other label is removed: a namespace with
// both is ambiguous (IST0123) and istio-injection wins.
func EnableInjection(ctx context.Context, c mesh.Cluster, namespace, revision string) error {
	if _, err := c.Clientset.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("-n %s: namespace not found", namespace)
		}
		return fmt.Errorf("reading namespace %s: %w", namespace, err)
	}
	labels := map[string]any{}
	if revision == "" || revision == DefaultRevision {
		labels[labelInjection], labels[labelRev] = "enabled", nil
	} else {
		if err := checkInjector(ctx, c, revision); err != nil {
			return err
		}
		labels[labelRev], labels[labelInjection] = revision, nil
	}
	return patchNamespaceLabels(ctx, c, namespace, labels)
}

// DisableInjection removes both injection labels; running pods keep their
// proxies until they restart.
func DisableInjection(ctx context.Context, c mesh.Cluster, namespace string) error {
	return patchNamespaceLabels(ctx, c, namespace, map[string]any{labelInjection: nil, labelRev: nil})
}

// checkInjector refuses a revision or tag that has no injector webhook:
// pods in the namespace would silently start without proxies.
func checkInjector(ctx context.Context, c mesh.Cluster, revision string) error {
	whs, err := revisionWebhooks(ctx, c.Clientset, revision)
	if err != nil {
		return err
	}
	if len(whs) > 0 {
		return nil
	}
	tags, err := c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{LabelSelector: labelTag + "=" + revision})
	if err != nil {
		return fmt.Errorf("reading revision tag %q: %w", revision, err)
	}
	if len(tags.Items) == 0 {
		return fmt.Errorf("--revision %s: no such Istio revision or tag is installed (kubectl mesh status lists them)", revision)
	}
	return nil
}

func patchNamespaceLabels(ctx context.Context, c mesh.Cluster, namespace string, labels map[string]any) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if err != nil {
		return fmt.Errorf("labelling namespace %s: %w", namespace, err)
	}
	_, err = c.Clientset.CoreV1().Namespaces().Patch(ctx, namespace, types.MergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("-n %s: namespace not found", namespace)
	}
	if err != nil {
		return fmt.Errorf("labelling namespace %s: %w", namespace, err)
	}
	return nil
}
