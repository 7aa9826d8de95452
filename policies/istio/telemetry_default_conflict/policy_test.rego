package mesh.istio.telemetry_default_conflict_test

import data.mesh.istio.telemetry_default_conflict
import rego.v1

telemetry(name, spec) := {
	"apiVersion": "telemetry.istio.io/v1", "kind": "Telemetry",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": spec,
}

inventory(telemetries) := {"namespace": {"shop": {"telemetry.istio.io/v1": {"Telemetry": {t.metadata.name: t | some t in telemetries}}}}}

review(t) := {"review": {"namespace": "shop", "operation": "CREATE", "object": t}}

test_one_default_allowed if {
	a := telemetry("default", {"tracing": [{"randomSamplingPercentage": 1}]})
	b := telemetry("reviews", {"selector": {"matchLabels": {"app": "reviews"}}})
	count(telemetry_default_conflict.violation) == 0 with input as review(a) with data.inventory as inventory([a, b])
}

test_two_defaults_denied if {
	a := telemetry("client-metrics", {})
	b := telemetry("server-metrics", {"metrics": []})
	v := telemetry_default_conflict.violation with input as review(a) with data.inventory as inventory([a, b])
	v == {{"msg": "Telemetry client-metrics of namespace shop has no selector, nor does server-metrics: Istio applies only one namespace-wide Telemetry"}}
}
