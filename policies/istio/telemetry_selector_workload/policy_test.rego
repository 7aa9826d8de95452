package mesh.istio.telemetry_selector_workload_test

import data.mesh.istio.telemetry_selector_workload
import rego.v1

telemetry(ns, labels) := {"review": {"namespace": ns, "operation": "CREATE", "object": {
	"apiVersion": "telemetry.istio.io/v1", "kind": "Telemetry",
	"metadata": {"name": "reviews", "namespace": ns},
	"spec": {"selector": {"matchLabels": labels}, "accessLogging": [{"providers": [{"name": "envoy"}]}]},
}}}

inventory := {"namespace": {"shop": {"apps/v1": {"Deployment": {"reviews": {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": "reviews", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "reviews", "version": "v1"}}}},
}}}}}}

test_selector_matches_allowed if {
	count(telemetry_selector_workload.violation) == 0 with input as telemetry("shop", {"app": "reviews"}) with data.inventory as inventory
}

test_selector_matches_nothing_denied if {
	v := telemetry_selector_workload.violation with input as telemetry("shop", {"app": "bogus"}) with data.inventory as inventory
	v == {{"msg": "spec.selector.matchLabels app=bogus match no Pod or workload pod template in namespace shop: the Telemetry applies to nothing"}}
}

test_namespace_without_workloads_not_judged if {
	count(telemetry_selector_workload.violation) == 0 with input as telemetry("other", {"app": "reviews"}) with data.inventory as inventory
}
