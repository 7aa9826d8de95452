package mesh.istio.envoyfilter_operation_ignored_test

import data.mesh.istio.envoyfilter_operation_ignored
import rego.v1

review(patches) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
	"metadata": {"name": "ef", "namespace": "shop"},
	"spec": {"priority": 10, "configPatches": patches},
}}}

patch(apply_to, operation) := {"applyTo": apply_to, "patch": {"operation": operation, "value": {"name": "x"}}}

test_supported_operations_allowed if {
	count(envoyfilter_operation_ignored.violation) == 0 with input as review([
		patch("HTTP_FILTER", "REPLACE"), patch("ROUTE_CONFIGURATION", "MERGE"), patch("CLUSTER", "ADD"), patch("LISTENER", "REMOVE"),
	])
}

test_ignored_operations_denied if {
	v := envoyfilter_operation_ignored.violation with input as review([
		patch("CLUSTER", "REPLACE"), patch("HTTP_ROUTE", "ADD"), patch("ROUTE_CONFIGURATION", "REMOVE"),
	])
	v == {
		{"msg": "spec.configPatches[0]: operation REPLACE does nothing on applyTo CLUSTER; Istio ignores the patch"},
		{"msg": "spec.configPatches[1]: operation ADD does nothing on applyTo HTTP_ROUTE; Istio ignores the patch"},
		{"msg": "spec.configPatches[2]: operation REMOVE does nothing on applyTo ROUTE_CONFIGURATION; Istio ignores the patch"},
	}
}
