package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// createWebhookConfiguration registers cfg for the rest of the test.
func createWebhookConfiguration(t *testing.T, client kubernetes.Interface, cfg *admissionregistrationv1.ValidatingWebhookConfiguration) {
	t.Helper()
	if _, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(t.Context(), cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), cfg.Name, metav1.DeleteOptions{})
	})
}

// waitForWebhook waits until the apiserver calls the webhook, which it
// picks up asynchronously: until kubectl args with stdin manifest (a
// server-side dry run, which stores nothing) is refused by policyID.
func waitForWebhook(t *testing.T, manifest, policyID string, args ...string) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		r := harness.KubectlStdin(t, manifest, args...)
		last = r.Stderr
		return r.Code != 0 && strings.Contains(r.Stderr, policyID), nil
	})
	if err != nil {
		t.Fatalf("the apiserver never called the webhook: %v\nlast kubectl output:\n%s", err, last)
	}
}
