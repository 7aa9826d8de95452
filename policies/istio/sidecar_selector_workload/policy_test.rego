package mesh.istio.sidecar_selector_workload_test

import data.mesh.istio.sidecar_selector_workload
import rego.v1

sidecar(ns, labels) := {"review": {"namespace": ns, "operation": "CREATE", "object": {
	"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
	"metadata": {"name": "reviews", "namespace": ns},
	"spec": {"workloadSelector": {"labels": labels}, "egress": [{"hosts": ["./*"]}]},
}}}

inventory := {"namespace": {"shop": {"apps/v1": {"Deployment": {"reviews": {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": "reviews", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "reviews", "version": "v1"}}}},
}}}}}}

test_selector_matches_allowed if {
	count(sidecar_selector_workload.violation) == 0 with input as sidecar("shop", {"app": "reviews"}) with data.inventory as inventory
}

test_selector_matches_nothing_denied if {
	v := sidecar_selector_workload.violation with input as sidecar("shop", {"app": "review"}) with data.inventory as inventory
	v == {{"msg": "spec.workloadSelector.labels app=review match no Pod or workload pod template in namespace shop: the Sidecar applies to nothing"}}
}

test_namespace_without_workloads_not_judged if {
	count(sidecar_selector_workload.violation) == 0 with input as sidecar("other", {"app": "reviews"}) with data.inventory as inventory
}

test_namespace_default_not_judged if {
	default_sidecar := json.patch(sidecar("shop", {}), [{"op": "remove", "path": "/review/object/spec/workloadSelector"}])
	count(sidecar_selector_workload.violation) == 0 with input as default_sidecar with data.inventory as inventory
}
