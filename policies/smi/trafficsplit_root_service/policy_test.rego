package mesh.smi.trafficsplit_root_service_test

import data.mesh.smi.trafficsplit_root_service
import rego.v1

service(ns, name) := {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 8080}]},
}

inventory := {"namespace": {"shop": {"v1": {"Service": {
	"website": service("shop", "website"),
	"website-v1": service("shop", "website-v1"),
}}}}}

review(root) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit",
		"metadata": {"name": "canary", "namespace": "shop"},
		"spec": {"service": root, "backends": [{"service": "website-v1", "weight": 100}]},
	},
}}

test_short_name_allowed if {
	count(trafficsplit_root_service.violation) == 0 with input as review("website")
		with data.inventory as inventory
}

test_fqdn_allowed if {
	count(trafficsplit_root_service.violation) == 0 with input as review("website.shop.svc.cluster.local")
		with data.inventory as inventory
	count(trafficsplit_root_service.violation) == 0 with input as review("website.shop")
		with data.inventory as inventory
}

test_missing_root_denied if {
	v := trafficsplit_root_service.violation with input as review("web")
		with data.inventory as inventory
	v == {{"msg": `spec.service "web": root Service "web" does not exist in namespace "shop"`}}
}

test_fqdn_in_other_namespace_denied if {
	v := trafficsplit_root_service.violation with input as review("website.other.svc.cluster.local")
		with data.inventory as inventory
	v == {{"msg": `spec.service "website.other.svc.cluster.local": root Service "website" does not exist in namespace "other"`}}
}

test_short_name_resolves_in_own_namespace if {
	in_other := json.patch(review("website"), [{"op": "replace", "path": "/review/namespace", "value": "other"}])
	count(trafficsplit_root_service.violation) == 1 with input as in_other
		with data.inventory as inventory
}

test_non_service_dns_name_not_checked if {
	count(trafficsplit_root_service.violation) == 0 with input as review("api.example.com")
		with data.inventory as inventory
}
