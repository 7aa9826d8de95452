package mesh.linkerd.httproute_parent_missing_test

import data.mesh.linkerd.httproute_parent_missing
import rego.v1

service(ns, name) := {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
}

inventory := {"namespace": {
	"shop": {
		"v1": {"Service": {"web": service("shop", "web")}},
		"policy.linkerd.io/v1beta3": {"Server": {"web-http": {
			"apiVersion": "policy.linkerd.io/v1beta3", "kind": "Server",
			"metadata": {"name": "web-http", "namespace": "shop"},
			"spec": {"podSelector": {"matchLabels": {"app": "web"}}, "port": "http"},
		}}},
	},
	"payments": {"v1": {"Service": {"ledger": service("payments", "ledger")}}},
}}

review(parent_refs) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "policy.linkerd.io/v1beta3", "kind": "HTTPRoute",
		"metadata": {"name": "web-route", "namespace": "shop"},
		"spec": {"parentRefs": parent_refs, "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}]},
	},
}}

test_service_parent_allowed if {
	count(httproute_parent_missing.violation) == 0 with input as review([{"group": "core", "kind": "Service", "name": "web", "port": 80}])
		with data.inventory as inventory
}

test_service_parent_empty_group_without_port_allowed if {
	count(httproute_parent_missing.violation) == 0 with input as review([{"group": "", "kind": "Service", "name": "web"}])
		with data.inventory as inventory
}

test_server_parent_allowed if {
	count(httproute_parent_missing.violation) == 0 with input as review([{"group": "policy.linkerd.io", "kind": "Server", "name": "web-http"}])
		with data.inventory as inventory
}

test_missing_service_denied if {
	v := httproute_parent_missing.violation with input as review([{"group": "core", "kind": "Service", "name": "webb", "port": 80}])
		with data.inventory as inventory
	v == {{"msg": `spec.parentRefs[0]: Service "webb" does not exist in namespace "shop"`}}
}

test_target_port_instead_of_service_port_denied if {
	v := httproute_parent_missing.violation with input as review([{"kind": "Service", "name": "web", "port": 8080}])
		with data.inventory as inventory
	v == {{"msg": `spec.parentRefs[0]: Service "web" in namespace "shop" has no port 8080`}}
}

test_missing_server_denied if {
	v := httproute_parent_missing.violation with input as review([
		{"group": "policy.linkerd.io", "kind": "Server", "name": "web-http"},
		{"group": "policy.linkerd.io", "kind": "Server", "name": "web-grpc"},
	])
		with data.inventory as inventory
	v == {{"msg": `spec.parentRefs[1]: Server "web-grpc" does not exist in namespace "shop"`}}
}

test_cross_namespace_parent if {
	count(httproute_parent_missing.violation) == 0 with input as review([{"kind": "Service", "name": "ledger", "namespace": "payments", "port": 80}])
		with data.inventory as inventory
	v := httproute_parent_missing.violation with input as review([{"kind": "Service", "name": "web", "namespace": "payments", "port": 80}])
		with data.inventory as inventory
	v == {{"msg": `spec.parentRefs[0]: Service "web" does not exist in namespace "payments"`}}
}

test_gateway_parent_not_checked if {
	count(httproute_parent_missing.violation) == 0 with input as review([{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}])
		with data.inventory as inventory
}

test_service_in_other_group_not_checked if {
	count(httproute_parent_missing.violation) == 0 with input as review([{"group": "example.com", "kind": "Service", "name": "nope"}])
		with data.inventory as inventory
}
