package mesh.istio.selector_gateway_api_test

import data.mesh.istio.selector_gateway_api
import rego.v1

policy(spec) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
	"metadata": {"name": "gw", "namespace": "shop"},
	"spec": spec,
}}}

inventory := {"namespace": {"shop": {"v1": {"Pod": {"public-istio-1": {
	"apiVersion": "v1", "kind": "Pod",
	"metadata": {"name": "public-istio-1", "namespace": "shop", "labels": {"gateway.networking.k8s.io/gateway-name": "public", "app": "gw"}},
}}}}}}

test_target_refs_allowed if {
	spec := {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}]}
	count(selector_gateway_api.violation) == 0 with input as policy(spec) with data.inventory as inventory
}

test_other_workloads_allowed if {
	count(selector_gateway_api.violation) == 0 with input as policy({"selector": {"matchLabels": {"app": "web"}}}) with data.inventory as inventory
}

test_gateway_pods_by_label_denied if {
	v := selector_gateway_api.violation with input as policy({"selector": {"matchLabels": {"gateway.networking.k8s.io/gateway-name": "public"}}}) with data.inventory as inventory
	v == {{"msg": "spec.selector.matchLabels gateway.networking.k8s.io/gateway-name=public pick the pods of Gateway API Gateway public: select it with targetRefs instead"}}
}
