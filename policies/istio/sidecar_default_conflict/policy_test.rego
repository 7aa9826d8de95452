package mesh.istio.sidecar_default_conflict_test

import data.mesh.istio.sidecar_default_conflict
import rego.v1

sidecar(name, spec) := {
	"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": spec,
}

egress := {"egress": [{"hosts": ["./*", "istio-system/*"]}]}

ns_default := sidecar("default", egress)

legacy := sidecar("legacy", {"egress": [{"hosts": ["*/*"]}]})

selecting := sidecar("reviews", object.union(egress, {"workloadSelector": {"labels": {"app": "reviews"}}}))

inventory(sidecars) := {"namespace": {"shop": {"networking.istio.io/v1": {"Sidecar": {s.metadata.name: s | some s in sidecars}}}}}

review(obj) := {"review": {"namespace": "shop", "operation": "CREATE", "object": obj}}

test_single_default_allowed if {
	count(sidecar_default_conflict.violation) == 0 with input as review(ns_default)
		with data.inventory as inventory([ns_default, selecting])
}

test_selecting_sidecar_not_counted if {
	count(sidecar_default_conflict.violation) == 0 with input as review(selecting)
		with data.inventory as inventory([ns_default, selecting])
}

test_two_defaults_denied if {
	v := sidecar_default_conflict.violation with input as review(ns_default)
		with data.inventory as inventory([ns_default, legacy, selecting])
	v == {{"msg": `spec.workloadSelector is not set, as in Sidecar "legacy" of namespace "shop": only one Sidecar without workloadSelector per namespace takes effect`}}
}

test_three_defaults_denied if {
	third := sidecar("extra", egress)
	v := sidecar_default_conflict.violation with input as review(legacy)
		with data.inventory as inventory([ns_default, legacy, third])
	v == {{"msg": `spec.workloadSelector is not set, as in Sidecars "default", "extra" of namespace "shop": only one Sidecar without workloadSelector per namespace takes effect`}}
}

test_null_selector_is_a_default if {
	nulled := sidecar("nulled", object.union(egress, {"workloadSelector": null}))
	count(sidecar_default_conflict.violation) == 1 with input as review(nulled)
		with data.inventory as inventory([ns_default, nulled])
}

test_other_namespace_not_counted if {
	elsewhere := json.patch(legacy, [{"op": "replace", "path": "/metadata/namespace", "value": "istio-system"}])
	inv := {"namespace": {
		"shop": {"networking.istio.io/v1": {"Sidecar": {"default": ns_default}}},
		"istio-system": {"networking.istio.io/v1": {"Sidecar": {"legacy": elsewhere}}},
	}}
	count(sidecar_default_conflict.violation) == 0 with input as review(ns_default) with data.inventory as inv
}

test_update_of_itself_not_counted if {
	# The reviewed object is also in the inventory under its own name.
	count(sidecar_default_conflict.violation) == 0 with input as review(ns_default)
		with data.inventory as inventory([ns_default])
}
