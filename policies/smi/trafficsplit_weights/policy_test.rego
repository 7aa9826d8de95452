package mesh.smi.trafficsplit_weights_test

import data.mesh.smi.trafficsplit_weights
import rego.v1

review(api_version, backends) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": api_version, "kind": "TrafficSplit",
		"metadata": {"name": "canary", "namespace": "shop"},
		"spec": {"service": "website", "backends": backends},
	},
}}

v4(backends) := review("split.smi-spec.io/v1alpha4", backends)

v1(backends) := review("split.smi-spec.io/v1alpha1", backends)

test_canary_allowed if {
	count(trafficsplit_weights.violation) == 0 with input as v4([
		{"service": "website-v1", "weight": 100},
		{"service": "website-v2", "weight": 0},
	])
}

test_quantity_weights_allowed if {
	count(trafficsplit_weights.violation) == 0 with input as v1([
		{"service": "website-v1", "weight": "900m"},
		{"service": "website-v2", "weight": "100m"},
	])
}

test_negative_weight_denied if {
	v := trafficsplit_weights.violation with input as v4([
		{"service": "website-v1", "weight": 100},
		{"service": "website-v2", "weight": -10},
	])
	v == {{"msg": "spec.backends[1].weight is -10: a weight must not be negative"}}
}

test_negative_quantity_denied if {
	v := trafficsplit_weights.violation with input as v1([
		{"service": "website-v1", "weight": "1"},
		{"service": "website-v2", "weight": "-500m"},
	])
	v == {{"msg": "spec.backends[1].weight is -500m: a weight must not be negative"}}
}

test_all_zero_denied if {
	v := trafficsplit_weights.violation with input as v4([
		{"service": "website-v1", "weight": 0},
		{"service": "website-v2", "weight": 0},
	])
	v == {{"msg": "spec.backends: all 2 backends have weight 0, so the TrafficSplit sends traffic to none of them"}}
}

test_all_zero_quantities_and_missing_weight_denied if {
	count(trafficsplit_weights.violation) == 1 with input as v1([
		{"service": "website-v1", "weight": "0m"},
		{"service": "website-v2"},
	])
}

test_no_backends_not_reported_here if {
	count(trafficsplit_weights.violation) == 0 with input as v4([])
}
