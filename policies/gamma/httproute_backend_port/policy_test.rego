package mesh.gamma.httproute_backend_port_test

import data.mesh.gamma.httproute_backend_port
import rego.v1

inventory := {"namespace": {"shop": {"v1": {"Service": {
	"reviews": {
		"apiVersion": "v1", "kind": "Service",
		"metadata": {"name": "reviews", "namespace": "shop"},
		"spec": {"ports": [{"name": "http", "port": 9080, "targetPort": 8080}, {"name": "grpc", "port": 9090}]},
	},
	"legacy": {
		"apiVersion": "v1", "kind": "Service",
		"metadata": {"name": "legacy", "namespace": "shop"},
		"spec": {"type": "ExternalName", "externalName": "legacy.example.com"},
	},
}}}}}

mesh_parent := {"group": "", "kind": "Service", "name": "reviews"}

review(spec) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": {"name": "reviews", "namespace": "shop"},
		"spec": spec,
	},
}}

route(backend_refs) := review({"parentRefs": [mesh_parent], "rules": [{"backendRefs": backend_refs}]})

test_service_port_allowed if {
	count(httproute_backend_port.violation) == 0 with input as route([{"name": "reviews", "port": 9080}, {"name": "reviews", "port": 9090}])
		with data.inventory as inventory
}

test_target_port_denied if {
	v := httproute_backend_port.violation with input as route([{"name": "reviews", "port": 8080}])
		with data.inventory as inventory
	v == {{"msg": `spec.rules[0].backendRefs[0]: port 8080 is not a port of Service "reviews" (it has [9080, 9090])`}}
}

test_missing_port_denied if {
	v := httproute_backend_port.violation with input as route([{"name": "reviews", "port": 9080}, {"name": "reviews"}])
		with data.inventory as inventory
	v == {{"msg": `spec.rules[0].backendRefs[1]: backend Service "reviews" has no port; Gateway API requires one for Service backends`}}
}

test_missing_service_left_to_mesh4001 if {
	count(httproute_backend_port.violation) == 0 with input as route([{"name": "ratings", "port": 1}])
		with data.inventory as inventory
}

test_external_name_service_not_checked if {
	count(httproute_backend_port.violation) == 0 with input as route([{"name": "legacy", "port": 443}])
		with data.inventory as inventory
}

test_non_service_backend_not_checked if {
	count(httproute_backend_port.violation) == 0 with input as route([{"group": "multicluster.x-k8s.io", "kind": "ServiceImport", "name": "reviews"}])
		with data.inventory as inventory
}

test_gateway_route_not_checked if {
	count(httproute_backend_port.violation) == 0 with input as review({
		"parentRefs": [{"name": "public-gw"}],
		"rules": [{"backendRefs": [{"name": "reviews", "port": 8080}]}],
	})
		with data.inventory as inventory
}
