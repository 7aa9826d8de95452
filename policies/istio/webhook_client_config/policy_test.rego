package mesh.istio.webhook_client_config_test

import data.mesh.istio.webhook_client_config
import rego.v1

review(kind, name, configs) := {"review": {"namespace": "", "operation": "CREATE", "object": {
	"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
	"metadata": {"name": name},
	"webhooks": [{"name": sprintf("hook%d.istio.io", [i]), "clientConfig": c} | some i, c in configs],
}}}

test_hostname_and_service_allowed if {
	count(webhook_client_config.violation) == 0 with input as review("MutatingWebhookConfiguration", "istio-sidecar-injector", [
		{"url": "https://istiod.example.com:15017/inject"},
		{"service": {"name": "istiod", "namespace": "istio-system"}},
	])
}

test_other_webhooks_not_judged if {
	count(webhook_client_config.violation) == 0 with input as review("MutatingWebhookConfiguration", "cert-manager-webhook", [{}])
}

test_blank_denied if {
	v := webhook_client_config.violation with input as review("ValidatingWebhookConfiguration", "istio-validator-external", [{"url": null}])
	v == {{"msg": "webhooks[0] (hook0.istio.io): clientConfig has neither url nor service, so the API server cannot call istiod"}}
}

test_ip_address_denied if {
	v := webhook_client_config.violation with input as review("MutatingWebhookConfiguration", "istio-sidecar-injector-external", [{"url": "https://1.1.1.1:5100/inject"}])
	v == {{"msg": "webhooks[0] (hook0.istio.io): clientConfig.url names the IP address 1.1.1.1: use the external control plane's host name"}}
	count(webhook_client_config.violation) == 1 with input as review("ValidatingWebhookConfiguration", "istiod-default-validator", [{"url": "https://[2001:db8::1]:15017/validate"}])
}
