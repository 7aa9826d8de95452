package mesh.istio.gateway_selector_test

import data.mesh.istio.gateway_selector
import rego.v1

deployment(ns, name, labels) := {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "istio-proxy", "image": "auto"}]}}},
}

inventory := {"namespace": {
	"istio-ingress": {"apps/v1": {"Deployment": {"istio-ingress": deployment("istio-ingress", "istio-ingress", {"app": "istio-ingress", "istio": "ingress"})}}},
	"edge": {"v1": {"Pod": {"edge-gw-7d9f": {
		"apiVersion": "v1", "kind": "Pod",
		"metadata": {"name": "edge-gw-7d9f", "namespace": "edge", "labels": {"app": "edge-gw"}},
	}}}},
	"vms": {"networking.istio.io/v1": {"WorkloadEntry": {"vm-gw": {
		"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
		"metadata": {"name": "vm-gw", "namespace": "vms"},
		"spec": {"address": "10.0.0.7", "labels": {"app": "vm-gateway"}},
	}}}},
}}

review(selector) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
		"metadata": {"name": "gw", "namespace": "shop"},
		"spec": {"selector": selector, "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*/www.example.com"]}]},
	},
}}

test_selector_matching_workload_in_other_namespace_allowed if {
	count(gateway_selector.violation) == 0 with input as review({"istio": "ingress"})
		with data.inventory as inventory
}

test_selector_matching_pod_allowed if {
	count(gateway_selector.violation) == 0 with input as review({"app": "edge-gw"})
		with data.inventory as inventory
}

test_selector_matching_workload_entry_allowed if {
	count(gateway_selector.violation) == 0 with input as review({"app": "vm-gateway"})
		with data.inventory as inventory
}

test_selector_matching_nothing_denied if {
	v := gateway_selector.violation with input as review({"istio": "ingress-public"})
		with data.inventory as inventory
	v == {{"msg": `spec.selector istio=ingress-public matches no Pod, workload pod template or WorkloadEntry in any namespace`}}
}

test_every_label_must_match if {
	v := gateway_selector.violation with input as review({"istio": "ingress", "app": "istio-egress"})
		with data.inventory as inventory
	v == {{"msg": `spec.selector app=istio-egress,istio=ingress matches no Pod, workload pod template or WorkloadEntry in any namespace`}}
}

test_empty_selector_not_flagged if {
	count(gateway_selector.violation) == 0 with input as review({})
		with data.inventory as inventory
	no_selector := json.remove(review({}), ["review/object/spec/selector"])
	count(gateway_selector.violation) == 0 with input as no_selector
		with data.inventory as inventory
}

test_default_install_gateway_labels_not_flagged if {
	count(gateway_selector.violation) == 0 with input as review({"istio": "ingressgateway"})
		with data.inventory as {}
	count(gateway_selector.violation) == 0 with input as review({"istio": "egressgateway"})
		with data.inventory as {}
	count(gateway_selector.violation) == 1 with input as review({"istio": "ingressgateway", "app": "custom"})
		with data.inventory as {}
}
