package mesh.istio.virtualservice_gateway_test

import data.mesh.istio.virtualservice_gateway
import rego.v1

gateway(ns, name) := {
	"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"selector": {"istio": "ingressgateway"}, "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]},
}

inventory := {"namespace": {
	"shop": {"networking.istio.io/v1": {"Gateway": {"shop-gw": gateway("shop", "shop-gw"), "www.example": gateway("shop", "www.example")}}},
	"istio-ingress": {"networking.istio.io/v1beta1": {"Gateway": {"public": gateway("istio-ingress", "public")}}},
}}

review(spec) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": {"name": "vs", "namespace": "shop"},
		"spec": object.union({"hosts": ["www.example.com"], "http": [{"route": [{"destination": {"host": "web"}}], "timeout": "5s"}]}, spec),
	},
}}

test_existing_gateways_allowed if {
	count(virtualservice_gateway.violation) == 0 with input as review({"gateways": ["mesh", "shop-gw", "./shop-gw", "shop/shop-gw", "istio-ingress/public"]})
		with data.inventory as inventory
}

test_legacy_fqdn_form_allowed if {
	count(virtualservice_gateway.violation) == 0 with input as review({"gateways": ["public.istio-ingress.svc.cluster.local", "public.istio-ingress"]})
		with data.inventory as inventory
}

test_no_gateways_allowed if {
	count(virtualservice_gateway.violation) == 0 with input as review({})
		with data.inventory as inventory
}

test_missing_gateway_denied if {
	v := virtualservice_gateway.violation with input as review({"gateways": ["mesh", "public"]})
		with data.inventory as inventory
	v == {{"msg": `spec.gateways[1]: gateway "public" not found (no Gateway public in namespace shop)`}}
}

test_wrong_namespace_denied if {
	v := virtualservice_gateway.violation with input as review({"gateways": ["istio-system/public"]})
		with data.inventory as inventory
	v == {{"msg": `spec.gateways[0]: gateway "istio-system/public" not found (no Gateway public in namespace istio-system)`}}
}

test_match_gateways_checked if {
	spec := {
		"gateways": ["shop-gw", "mesh"],
		"http": [
			{"match": [{"gateways": ["mesh"]}], "route": [{"destination": {"host": "web"}}], "timeout": "5s"},
			{"match": [{"uri": {"prefix": "/"}}, {"gateways": ["shop-gw", "shop/edge"]}], "route": [{"destination": {"host": "web"}}], "timeout": "5s"},
		],
		"tls": [{"match": [{"sniHosts": ["www.example.com"], "gateways": ["passthrough"]}], "route": [{"destination": {"host": "web"}}]}],
	}
	v := virtualservice_gateway.violation with input as review(spec)
		with data.inventory as inventory
	v == {
		{"msg": `spec.http[1].match[1].gateways[1]: gateway "shop/edge" not found (no Gateway edge in namespace shop)`},
		{"msg": `spec.tls[0].match[0].gateways[0]: gateway "passthrough" not found (no Gateway passthrough in namespace shop)`},
	}
}

test_dotted_name_is_read_as_legacy_form if {
	# istiod reads "www.example" as Gateway www in namespace example.
	v := virtualservice_gateway.violation with input as review({"gateways": ["www.example"]})
		with data.inventory as inventory
	v == {{"msg": `spec.gateways[0]: gateway "www.example" not found (no Gateway www in namespace example); istiod reads a dotted name as <name>.<namespace>, write shop/www.example`}}
	count(virtualservice_gateway.violation) == 0 with input as review({"gateways": ["shop/www.example"]})
		with data.inventory as inventory
}
