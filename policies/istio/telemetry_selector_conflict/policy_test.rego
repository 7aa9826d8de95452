package mesh.istio.telemetry_selector_conflict_test

import data.mesh.istio.telemetry_selector_conflict
import rego.v1

telemetry(name, labels) := {
	"apiVersion": "telemetry.istio.io/v1", "kind": "Telemetry",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": {"selector": {"matchLabels": labels}},
}

inventory(telemetries) := {"namespace": {"shop": {
	"telemetry.istio.io/v1": {"Telemetry": {t.metadata.name: t | some t in telemetries}},
	"v1": {"Pod": {"ratings-1": {
		"apiVersion": "v1", "kind": "Pod",
		"metadata": {"name": "ratings-1", "namespace": "shop", "labels": {"app": "ratings", "team": "data"}},
	}}},
}}}

review(t) := {"review": {"namespace": "shop", "operation": "CREATE", "object": t}}

test_disjoint_allowed if {
	a := telemetry("ratings", {"app": "ratings"})
	b := telemetry("reviews", {"app": "reviews"})
	count(telemetry_selector_conflict.violation) == 0 with input as review(a) with data.inventory as inventory([a, b])
}

test_overlap_denied if {
	a := telemetry("ratings", {"app": "ratings"})
	b := telemetry("data-team", {"team": "data"})
	v := telemetry_selector_conflict.violation with input as review(a) with data.inventory as inventory([a, b])
	v == {{"msg": "spec.selector.matchLabels app=ratings select the same workloads as Telemetry data-team (team=data): Istio applies only one of them"}}
}
