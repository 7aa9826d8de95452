package mesh.gamma.httproute_parent_service_missing_test

import data.mesh.gamma.httproute_parent_service_missing
import rego.v1

service(ns, name) := {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"ports": [{"name": "http", "port": 9080}]},
}

inventory := {"namespace": {
	"shop": {"v1": {"Service": {"reviews": service("shop", "reviews")}}},
	"backend": {"v1": {"Service": {"ratings": service("backend", "ratings")}}},
}}

review(parent_refs) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": {"name": "reviews", "namespace": "shop"},
		"spec": {
			"parentRefs": parent_refs,
			"rules": [{"backendRefs": [{"name": "reviews", "port": 9080}]}],
		},
	},
}}

test_existing_parent_allowed if {
	count(httproute_parent_service_missing.violation) == 0 with input as review([{"group": "", "kind": "Service", "name": "reviews", "port": 9080}])
		with data.inventory as inventory
}

test_consumer_route_to_other_namespace_allowed if {
	# A consumer route in shop for a producer Service in backend.
	count(httproute_parent_service_missing.violation) == 0 with input as review([{"group": "", "kind": "Service", "name": "ratings", "namespace": "backend"}])
		with data.inventory as inventory
}

test_missing_parent_denied if {
	v := httproute_parent_service_missing.violation with input as review([
		{"group": "", "kind": "Service", "name": "reviews"},
		{"group": "", "kind": "Service", "name": "ratings"},
	])
		with data.inventory as inventory
	v == {{"msg": `spec.parentRefs[1]: parent Service "ratings" does not exist in namespace "shop"`}}
}

test_gateway_parent_not_checked if {
	count(httproute_parent_service_missing.violation) == 0 with input as review([
		{"name": "public-gw", "namespace": "ingress"},
		{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "internal"},
	])
		with data.inventory as inventory
}

test_non_core_service_kind_not_checked if {
	count(httproute_parent_service_missing.violation) == 0 with input as review([{"group": "example.com", "kind": "Service", "name": "nope"}])
		with data.inventory as inventory
}
