package soak

import (
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// Start runs the mesh-webhook binary with args against the harness's
// sandbox, registered by url for the load's kinds in namespace (created
// here), and returns the load once the apiserver calls the webhook.
func Start(tb testing.TB, namespace string, args ...string) (*Load, *harness.Webhook) {
	tb.Helper()
	harness.Namespace(tb, namespace)
	ca, err := certs.NewCA("soak-ca", time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	wh := harness.StartWebhook(tb, harness.WebhookOptions{CA: ca, Args: args})
	url := wh.URL()
	rc := harness.RESTConfig(tb)
	unregister, err := Register(tb.Context(), rc, namespace, namespace, admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: ca.CertPEM})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(unregister)
	if err := WaitCalled(tb.Context(), rc, namespace, 30*time.Second); err != nil {
		tb.Fatal(err)
	}
	load, err := New(Config{RESTConfig: rc, Namespace: namespace})
	if err != nil {
		tb.Fatal(err)
	}
	return load, wh
}
