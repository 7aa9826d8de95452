package istio

import (
	"context"
	"strings"
	"testing"

	admitv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// injectorWebhook is a revision's own injector, as istiod's chart makes it.
func injectorWebhook(name, rev, service string) *admitv1.MutatingWebhookConfiguration {
	path := "/inject"
	return &admitv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"istio.io/rev": rev, "app": "sidecar-injector", "release": "istiod"}},
		Webhooks: []admitv1.MutatingWebhook{{
			Name: "rev.namespace.sidecar-injector.istio.io",
			ClientConfig: admitv1.WebhookClientConfig{CABundle: []byte("CA"),
				Service: &admitv1.ServiceReference{Name: service, Namespace: "istio-system", Path: &path}},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"istio.io/rev": rev}},
		}},
	}
}

func TestSetDefaultTag(t *testing.T) {
	kube := fake.NewClientset(
		injectorWebhook("istio-sidecar-injector", "default", "istiod"),
		injectorWebhook("istio-sidecar-injector-canary", "canary", "istiod-canary"),
	)
	c := mesh.Cluster{Clientset: kube}
	ctx := context.Background()
	if err := (&Istio{}).SetTag(ctx, c, "default", "canary", false); err != nil {
		t.Fatal(err)
	}
	admit := kube.AdmissionregistrationV1()
	tag, err := admit.MutatingWebhookConfigurations().Get(ctx, "istio-revision-tag-default", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tag.Labels["istio.io/tag"] != "default" || tag.Labels["istio.io/rev"] != "canary" || tag.Labels["app"] != "sidecar-injector" {
		t.Errorf("tag labels %v", tag.Labels)
	}
	sawInjectionLabel := false
	for _, w := range tag.Webhooks {
		if string(w.ClientConfig.CABundle) != "CA" || w.ClientConfig.Service.Name != "istiod-canary" || *w.ClientConfig.Service.Path != "/inject" {
			t.Errorf("webhook %s client %+v, want the canary's endpoint and CA", w.Name, w.ClientConfig)
		}
		if w.NamespaceSelector != nil && strings.Contains(w.NamespaceSelector.String(), "istio-injection") && strings.Contains(w.NamespaceSelector.String(), "enabled") {
			sawInjectionLabel = true
		}
	}
	if !sawInjectionLabel {
		t.Error("the default tag does not take istio-injection=enabled namespaces")
	}
	old, err := admit.MutatingWebhookConfigurations().Get(ctx, "istio-sidecar-injector", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sel := old.Webhooks[0].NamespaceSelector.MatchLabels; sel["istio.io/deactivated"] == "" {
		t.Errorf("the old default injector still selects %v", old.Webhooks[0].NamespaceSelector)
	}
	vwh, err := admit.ValidatingWebhookConfigurations().Get(ctx, "istiod-default-validator", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if vwh.Labels["istio.io/tag"] != "default" || vwh.Webhooks[0].ClientConfig.Service.Name != "istiod-canary" {
		t.Errorf("validator %+v, want tagged default and calling istiod-canary", vwh)
	}
	svc, err := kube.CoreV1().Services("istio-system").Get(ctx, "istiod-revision-tag-default", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Labels["istio.io/rev"] != "canary" {
		t.Errorf("tag service labels %v", svc.Labels)
	}

	// Removing it deletes the webhook, validator and Service.
	if err := (&Istio{}).RemoveTag(ctx, c, "default", false); err != nil {
		t.Fatal(err)
	}
	if l, _ := admit.MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{LabelSelector: "istio.io/tag"}); len(l.Items) != 0 {
		t.Errorf("tag webhooks left: %d", len(l.Items))
	}
	if l, _ := admit.ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("validators left: %d", len(l.Items))
	}
	if l, _ := kube.CoreV1().Services("").List(ctx, metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("services left: %d", len(l.Items))
	}
}
