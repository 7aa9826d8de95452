package mesh.smi.trafficsplit_backend_missing_test

import data.mesh.smi.trafficsplit_backend_missing
import rego.v1

service(ns, name) := {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 8080}]},
}

inventory := {"namespace": {"shop": {"v1": {"Service": {
	"website": service("shop", "website"),
	"website-v1": service("shop", "website-v1"),
	"website-v2": service("shop", "website-v2"),
}}}}}

review(api_version, backends) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": api_version, "kind": "TrafficSplit",
		"metadata": {"name": "canary", "namespace": "shop"},
		"spec": {"service": "website", "backends": backends},
	},
}}

test_existing_backends_allowed if {
	count(trafficsplit_backend_missing.violation) == 0 with input as review("split.smi-spec.io/v1alpha4", [
		{"service": "website-v1", "weight": 90},
		{"service": "website-v2", "weight": 10},
	])
		with data.inventory as inventory
}

test_missing_backend_denied if {
	v := trafficsplit_backend_missing.violation with input as review("split.smi-spec.io/v1alpha4", [
		{"service": "website-v1", "weight": 90},
		{"service": "website-v3", "weight": 10},
	])
		with data.inventory as inventory
	v == {{"msg": `spec.backends[1].service "website-v3": backend Service "website-v3" does not exist in namespace "shop", yet it has weight 10`}}
}

test_missing_backend_with_quantity_weight_denied if {
	v := trafficsplit_backend_missing.violation with input as review("split.smi-spec.io/v1alpha1", [
		{"service": "website-v1", "weight": "900m"},
		{"service": "website-v3", "weight": "100m"},
	])
		with data.inventory as inventory
	v == {{"msg": `spec.backends[1].service "website-v3": backend Service "website-v3" does not exist in namespace "shop", yet it has weight 100m`}}
}

test_new_backend_at_weight_zero_allowed if {
	# The SMI rollout workflow: the split names foobar-v2 before it exists.
	count(trafficsplit_backend_missing.violation) == 0 with input as review("split.smi-spec.io/v1alpha4", [
		{"service": "website-v1", "weight": 100},
		{"service": "website-v3", "weight": 0},
	])
		with data.inventory as inventory
	count(trafficsplit_backend_missing.violation) == 0 with input as review("split.smi-spec.io/v1alpha1", [
		{"service": "website-v1", "weight": "1"},
		{"service": "website-v3", "weight": "0m"},
	])
		with data.inventory as inventory
}

test_backend_resolves_in_own_namespace if {
	in_other := json.patch(review("split.smi-spec.io/v1alpha4", [{"service": "website-v1", "weight": 1}]), [{"op": "replace", "path": "/review/namespace", "value": "other"}])
	count(trafficsplit_backend_missing.violation) == 1 with input as in_other
		with data.inventory as inventory
}
