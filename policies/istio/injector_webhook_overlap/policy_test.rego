package mesh.istio.injector_webhook_overlap_test

import data.mesh.istio.injector_webhook_overlap
import rego.v1

config(name, labels, hooks) := {
	"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
	"metadata": {"name": name, "labels": labels},
	"webhooks": hooks,
}

hook(name, ns_selector, object_selector) := {
	"name": name,
	"clientConfig": {"service": {"name": "istiod", "namespace": "istio-system"}},
	"namespaceSelector": ns_selector,
	"objectSelector": object_selector,
}

injection_enabled := {"matchLabels": {"istio-injection": "enabled"}}

no_rev_label := {"matchExpressions": [{"key": "istio.io/rev", "operator": "DoesNotExist"}]}

inventory(configs) := {
	"cluster": {"admissionregistration.k8s.io/v1": {"MutatingWebhookConfiguration": {c.metadata.name: c | some c in configs}}},
	"namespace": {"istio-system": {"v1": {"Service": {"istiod": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "istiod", "namespace": "istio-system"}}}}}},
}

review(obj) := {"review": {"namespace": "", "operation": "CREATE", "object": obj}}

test_default_and_revision_disjoint_allowed if {
	default_injector := config("istio-sidecar-injector", {}, [hook("namespace.sidecar-injector.istio.io", injection_enabled, no_rev_label)])
	canary := config("istio-sidecar-injector-canary", {"istio.io/rev": "canary"}, [hook("rev.namespace.sidecar-injector.istio.io", {"matchExpressions": [
		{"key": "istio.io/rev", "operator": "In", "values": ["canary"]},
		{"key": "istio-injection", "operator": "DoesNotExist"},
	]}, {})])
	count(injector_webhook_overlap.violation) == 0 with input as review(default_injector) with data.inventory as inventory([default_injector, canary])
	count(injector_webhook_overlap.violation) == 0 with input as review(canary) with data.inventory as inventory([default_injector, canary])
}

test_two_injectors_for_one_namespace_denied if {
	a := config("istio-sidecar-injector", {}, [hook("sidecar-injector.istio.io", injection_enabled, {})])
	b := config("istio-sidecar-injector-old", {}, [hook("sidecar-injector.istio.io", injection_enabled, {})])
	v := injector_webhook_overlap.violation with input as review(a) with data.inventory as inventory([a, b])
	v == {{"msg": "webhooks[0] (sidecar-injector.istio.io) selects pods that istio-sidecar-injector-old/sidecar-injector.istio.io also select: they are injected twice"}}
}

test_missing_service_denied if {
	a := config("istio-sidecar-injector", {}, [object.union(hook("sidecar-injector.istio.io", injection_enabled, {}), {"clientConfig": {"service": {"name": "fake", "namespace": "istio-system"}}})])
	v := injector_webhook_overlap.violation with input as review(a) with data.inventory as inventory([a])
	v == {{"msg": "webhooks[0] (sidecar-injector.istio.io) calls Service istio-system/fake, which does not exist: it injects nothing"}}
}

test_other_webhooks_not_judged if {
	a := config("cert-manager-webhook", {}, [hook("webhook.cert-manager.io", {}, {})])
	b := config("other-webhook", {}, [hook("webhook.example.com", {}, {})])
	count(injector_webhook_overlap.violation) == 0 with input as review(a) with data.inventory as inventory([a, b])
}
