package injector

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Serve starts the stand-in for one test. When the test ends it deletes
// the webhook configurations that still point at it (a test that failed
// before uninstalling its mesh leaves them, and with failurePolicy Fail
// they would refuse the next tests' pods), then stops serving. Register
// the mesh's uninstall with t.Cleanup after Serve, so that it runs first.
func Serve(t testing.TB, client kubernetes.Interface) *Server {
	t.Helper()
	s, err := New(client)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		s.deleteWebhooks(t)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("stand-in injector: %v", err)
		}
	})
	return s
}

// deleteWebhooks deletes the mutating and validating webhook
// configurations with a webhook whose url is the stand-in's.
func (s *Server) deleteWebhooks(t testing.TB) {
	ctx := context.Background()
	ours := func(url *string) bool { return url != nil && strings.HasPrefix(*url, s.URL()+"/") }
	admission := s.client.AdmissionregistrationV1()
	mutating, err := admission.MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Errorf("listing mutating webhooks: %v", err)
		return
	}
	for _, c := range mutating.Items {
		for _, w := range c.Webhooks {
			if ours(w.ClientConfig.URL) {
				t.Logf("deleting MutatingWebhookConfiguration %s, left pointing at the stand-in injector", c.Name)
				if err := admission.MutatingWebhookConfigurations().Delete(ctx, c.Name, metav1.DeleteOptions{}); err != nil {
					t.Errorf("deleting %s: %v", c.Name, err)
				}
				break
			}
		}
	}
	validating, err := admission.ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Errorf("listing validating webhooks: %v", err)
		return
	}
	for _, c := range validating.Items {
		for _, w := range c.Webhooks {
			if ours(w.ClientConfig.URL) {
				t.Logf("deleting ValidatingWebhookConfiguration %s, left pointing at the stand-in injector", c.Name)
				if err := admission.ValidatingWebhookConfigurations().Delete(ctx, c.Name, metav1.DeleteOptions{}); err != nil {
					t.Errorf("deleting %s: %v", c.Name, err)
				}
				break
			}
		}
	}
}
