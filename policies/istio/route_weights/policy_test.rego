package mesh.istio.route_weights_test

import data.mesh.istio.route_weights
import rego.v1

review(spec) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": {"name": "reviews", "namespace": "shop"},
		"spec": object.union({"hosts": ["reviews"]}, spec),
	},
}}

dest(subset, weight) := {"destination": {"host": "reviews", "subset": subset}, "weight": weight}

unweighted(subset) := {"destination": {"host": "reviews", "subset": subset}}

test_canary_split_allowed if {
	count(route_weights.violation) == 0 with input as review({"http": [{"route": [dest("v1", 90), dest("v2", 10)], "timeout": "5s"}]})
}

test_relative_weights_allowed if {
	# Since Istio 1.15 weights are proportions; they need not sum to 100.
	count(route_weights.violation) == 0 with input as review({"http": [{"route": [dest("v1", 1), dest("v2", 1)]}]})
	count(route_weights.violation) == 0 with input as review({"tcp": [{"route": [dest("v1", 700), dest("v2", 300)]}]})
}

test_zero_weight_next_to_positive_allowed if {
	# A canary at 0% is a normal rollout step.
	count(route_weights.violation) == 0 with input as review({"http": [{"route": [dest("v1", 100), dest("v2", 0)]}]})
}

test_single_destination_allowed if {
	count(route_weights.violation) == 0 with input as review({"http": [{"route": [unweighted("v1")]}]})
	count(route_weights.violation) == 0 with input as review({"http": [{"route": [dest("v1", 0)]}]})
	count(route_weights.violation) == 0 with input as review({"tls": [{"match": [{"sniHosts": ["reviews"]}], "route": [dest("v1", 50)]}]})
}

test_unweighted_destinations_denied if {
	v := route_weights.violation with input as review({"http": [
		{"route": [dest("v1", 100)]},
		{"route": [unweighted("v1"), unweighted("v2")]},
	]})
	v == {{"msg": `spec.http[1].route has 2 destinations and their weights sum to 0 (an unset weight is 0); istiod rejects it with "total destination weight = 0"`}}
}

test_all_zero_tcp_denied if {
	v := route_weights.violation with input as review({"tcp": [{"route": [dest("v1", 0), dest("v2", 0), dest("v3", 0)]}]})
	v == {{"msg": `spec.tcp[0].route has 3 destinations and their weights sum to 0 (an unset weight is 0); istiod rejects it with "total destination weight = 0"`}}
}

test_negative_weight_denied if {
	v := route_weights.violation with input as review({"tls": [{"route": [dest("v1", 110), dest("v2", -10)]}]})
	v == {{"msg": `spec.tls[0].route[1].weight is -10; weights must not be negative`}}
}

test_negative_weights_summing_to_zero_reported_once_each if {
	v := route_weights.violation with input as review({"http": [{"route": [dest("v1", 10), dest("v2", -10)]}]})
	v == {{"msg": `spec.http[0].route[1].weight is -10; weights must not be negative`}}
}

test_routes_with_the_same_destinations_each_reported if {
	# Each distinct destination list is tested once; every route is reported.
	v := route_weights.violation with input as review({
		"http": [{"route": [dest("v1", -1)]}, {"route": [dest("v1", 100)]}, {"route": [dest("v1", -1)]}],
		"tcp": [{"route": [unweighted("v1"), unweighted("v2")]}],
		"tls": [{"route": [unweighted("v1"), unweighted("v2")]}],
	})
	v == {
		{"msg": `spec.http[0].route[0].weight is -1; weights must not be negative`},
		{"msg": `spec.http[2].route[0].weight is -1; weights must not be negative`},
		{"msg": `spec.tcp[0].route has 2 destinations and their weights sum to 0 (an unset weight is 0); istiod rejects it with "total destination weight = 0"`},
		{"msg": `spec.tls[0].route has 2 destinations and their weights sum to 0 (an unset weight is 0); istiod rejects it with "total destination weight = 0"`},
	}
}
