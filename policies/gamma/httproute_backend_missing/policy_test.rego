package mesh.gamma.httproute_backend_missing_test

import data.mesh.gamma.httproute_backend_missing
import rego.v1

service(ns, name) := {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"ports": [{"name": "http", "port": 8080}]},
}

inventory := {"namespace": {
	"shop": {"v1": {"Service": {
		"reviews": service("shop", "reviews"),
		"reviews-v1": service("shop", "reviews-v1"),
	}}},
	"backend": {"v1": {"Service": {"ratings": service("backend", "ratings")}}},
}}

mesh_parent := {"group": "", "kind": "Service", "name": "reviews", "port": 8080}

review(spec) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": {"name": "reviews", "namespace": "shop"},
		"spec": spec,
	},
}}

test_existing_backends_allowed if {
	count(httproute_backend_missing.violation) == 0 with input as review({
		"parentRefs": [mesh_parent],
		"rules": [{"backendRefs": [
			{"name": "reviews-v1", "port": 8080},
			{"name": "ratings", "namespace": "backend", "port": 8080},
		]}],
	})
		with data.inventory as inventory
}

test_missing_backend_denied if {
	v := httproute_backend_missing.violation with input as review({
		"parentRefs": [mesh_parent],
		"rules": [
			{"backendRefs": [{"name": "reviews-v1", "port": 8080}]},
			{"backendRefs": [{"name": "reviews-v1", "port": 8080}, {"name": "reviews-v2", "port": 8080, "weight": 10}]},
		],
	})
		with data.inventory as inventory
	v == {{"msg": `spec.rules[1].backendRefs[1]: backend Service "reviews-v2" does not exist in namespace "shop"`}}
}

test_backend_namespace_is_honoured if {
	# ratings exists in backend, not in shop.
	v := httproute_backend_missing.violation with input as review({
		"parentRefs": [mesh_parent],
		"rules": [{"backendRefs": [{"name": "ratings", "port": 8080}]}],
	})
		with data.inventory as inventory
	v == {{"msg": `spec.rules[0].backendRefs[0]: backend Service "ratings" does not exist in namespace "shop"`}}
}

test_gateway_route_not_checked if {
	# Attached to a Gateway only: not a mesh route.
	count(httproute_backend_missing.violation) == 0 with input as review({
		"parentRefs": [{"name": "public-gw", "namespace": "ingress"}],
		"rules": [{"backendRefs": [{"name": "nope", "port": 8080}]}],
	})
		with data.inventory as inventory
}

test_non_service_backend_not_checked if {
	count(httproute_backend_missing.violation) == 0 with input as review({
		"parentRefs": [mesh_parent],
		"rules": [{"backendRefs": [{"group": "networking.istio.io", "kind": "Hostname", "name": "api.example.com", "port": 443}]}],
	})
		with data.inventory as inventory
}

test_parent_without_group_is_a_mesh_route if {
	count(httproute_backend_missing.violation) == 1 with input as review({
		"parentRefs": [{"kind": "Service", "name": "reviews"}],
		"rules": [{"backendRefs": [{"name": "nope", "port": 8080}]}],
	})
		with data.inventory as inventory
}
