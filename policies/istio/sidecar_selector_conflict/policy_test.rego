package mesh.istio.sidecar_selector_conflict_test

import data.mesh.istio.sidecar_selector_conflict
import rego.v1

sidecar(name, labels) := {
	"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": {"workloadSelector": {"labels": labels}, "egress": [{"hosts": ["./*"]}]},
}

default_sidecar(name) := {
	"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": {"egress": [{"hosts": ["./*", "istio-system/*"]}]},
}

deployment(name, labels) := {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": labels}}},
}

inventory(sidecars, deployments) := {"namespace": {"shop": {
	"networking.istio.io/v1": {"Sidecar": {s.metadata.name: s | some s in sidecars}},
	"apps/v1": {"Deployment": {d.metadata.name: d | some d in deployments}},
}}}

review(obj) := {"review": {"namespace": "shop", "operation": "CREATE", "object": obj}}

reviews_v1 := sidecar("reviews-v1", {"app": "reviews", "version": "v1"})

reviews_v2 := sidecar("reviews-v2", {"app": "reviews", "version": "v2"})

reviews_all := sidecar("reviews", {"app": "reviews"})

deployments := [
	deployment("reviews-v1", {"app": "reviews", "version": "v1"}),
	deployment("reviews-v2", {"app": "reviews", "version": "v2"}),
	deployment("ratings", {"app": "ratings"}),
]

test_disjoint_selectors_allowed if {
	count(sidecar_selector_conflict.violation) == 0 with input as review(reviews_v1)
		with data.inventory as inventory([reviews_v1, reviews_v2], deployments)
}

test_selector_and_namespace_default_allowed if {
	# A selecting Sidecar takes precedence over the namespace default.
	ns_default := default_sidecar("default")
	count(sidecar_selector_conflict.violation) == 0 with input as review(reviews_v1)
		with data.inventory as inventory([reviews_v1, ns_default], deployments)
	count(sidecar_selector_conflict.violation) == 0 with input as review(ns_default)
		with data.inventory as inventory([reviews_v1, ns_default], deployments)
}

test_overlapping_selectors_denied if {
	v := sidecar_selector_conflict.violation with input as review(reviews_all)
		with data.inventory as inventory([reviews_all, reviews_v1, reviews_v2], deployments)
	v == {
		{"msg": `spec.workloadSelector.labels "app=reviews" select the same workloads as Sidecar "reviews-v1" ("app=reviews,version=v1"): Deployment reviews-v1`},
		{"msg": `spec.workloadSelector.labels "app=reviews" select the same workloads as Sidecar "reviews-v2" ("app=reviews,version=v2"): Deployment reviews-v2`},
	}
}

test_conflict_reported_on_both_sidecars if {
	v := sidecar_selector_conflict.violation with input as review(reviews_v1)
		with data.inventory as inventory([reviews_all, reviews_v1], deployments)
	v == {{"msg": `spec.workloadSelector.labels "app=reviews,version=v1" select the same workloads as Sidecar "reviews" ("app=reviews"): Deployment reviews-v1`}}
}

test_crossing_selectors_with_shared_pod_denied if {
	# Neither selector contains the other, but one workload carries both labels.
	by_team := sidecar("team-a", {"team": "a"})
	inv := inventory([reviews_all, by_team], [deployment("reviews", {"app": "reviews", "team": "a"})])
	v := sidecar_selector_conflict.violation with input as review(by_team) with data.inventory as inv
	v == {{"msg": `spec.workloadSelector.labels "team=a" select the same workloads as Sidecar "reviews" ("app=reviews"): Deployment reviews`}}
}

test_crossing_selectors_without_shared_workload_allowed if {
	by_team := sidecar("team-a", {"team": "a"})
	inv := inventory([reviews_all, by_team], [deployment("reviews", {"app": "reviews"})])
	count(sidecar_selector_conflict.violation) == 0 with input as review(by_team) with data.inventory as inv
}

test_nested_selectors_without_workloads_denied if {
	v := sidecar_selector_conflict.violation with input as review(reviews_v1)
		with data.inventory as inventory([reviews_all, reviews_v1], [])
	v == {{"msg": `spec.workloadSelector.labels "app=reviews,version=v1" overlap Sidecar "reviews" ("app=reviews"): every workload with labels "app=reviews,version=v1" is selected by both`}}
}

test_identical_selectors_without_workloads_denied if {
	twin := sidecar("reviews-copy", {"app": "reviews"})
	count(sidecar_selector_conflict.violation) == 1 with input as review(twin)
		with data.inventory as inventory([reviews_all, twin], [])
}

test_other_namespace_not_compared if {
	elsewhere := json.patch(reviews_all, [{"op": "replace", "path": "/metadata/namespace", "value": "other"}])
	inv := {"namespace": {
		"shop": {"networking.istio.io/v1": {"Sidecar": {"reviews-v1": reviews_v1}}},
		"other": {"networking.istio.io/v1": {"Sidecar": {"reviews": elsewhere}}},
	}}
	count(sidecar_selector_conflict.violation) == 0 with input as review(reviews_v1) with data.inventory as inv
}

test_many_workloads_summarised if {
	pods := [deployment(sprintf("reviews-%d", [i]), {"app": "reviews", "version": "v1"}) | some i in numbers.range(1, 5)]
	v := sidecar_selector_conflict.violation with input as review(reviews_all)
		with data.inventory as inventory([reviews_all, reviews_v1], pods)
	v == {{"msg": `spec.workloadSelector.labels "app=reviews" select the same workloads as Sidecar "reviews-v1" ("app=reviews,version=v1"): Deployment reviews-1, Deployment reviews-2, Deployment reviews-3 and 2 more`}}
}

test_pods_count_as_workloads if {
	pod := {
		"apiVersion": "v1", "kind": "Pod",
		"metadata": {"name": "reviews-v1-abc", "namespace": "shop", "labels": {"app": "reviews", "version": "v1"}},
	}
	inv := object.union(inventory([reviews_all, reviews_v1], []), {"namespace": {"shop": {"v1": {"Pod": {"reviews-v1-abc": pod}}}}})
	v := sidecar_selector_conflict.violation with input as review(reviews_all) with data.inventory as inv
	v == {{"msg": `spec.workloadSelector.labels "app=reviews" select the same workloads as Sidecar "reviews-v1" ("app=reviews,version=v1"): Pod reviews-v1-abc`}}
}

test_null_selector_is_not_selective if {
	nulled := json.patch(reviews_all, [{"op": "replace", "path": "/spec/workloadSelector", "value": null}])
	count(sidecar_selector_conflict.violation) == 0 with input as review(nulled)
		with data.inventory as inventory([nulled, reviews_v1], deployments)
	count(sidecar_selector_conflict.violation) == 0 with input as review(reviews_v1)
		with data.inventory as inventory([nulled, reviews_v1], deployments)
}
