package mesh.istio.virtualservice_unreachable_route_test

import data.mesh.istio.virtualservice_unreachable_route
import rego.v1

review(spec) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
	"metadata": {"name": "reviews", "namespace": "shop"},
	"spec": object.union({"hosts": ["reviews"]}, spec),
}}}

dest(subset) := [{"destination": {"host": "reviews", "subset": subset}}]

test_ordered_routes_allowed if {
	count(virtualservice_unreachable_route.violation) == 0 with input as review({"http": [
		{"match": [{"uri": {"prefix": "/v2"}}], "route": dest("v2")},
		{"route": dest("v1")},
	]})
}

test_route_after_catch_all_denied if {
	v := virtualservice_unreachable_route.violation with input as review({"http": [
		{"route": dest("v1")},
		{"match": [{"uri": {"prefix": "/v2"}}], "route": dest("v2")},
	]})
	v == {{"msg": "spec.http[1] can never be reached: spec.http[0] before it has no match and takes every request"}}
}

test_repeated_matches_denied if {
	v := virtualservice_unreachable_route.violation with input as review({"tcp": [
		{"match": [{"port": 31400}], "route": dest("v1")},
		{"match": [{"port": 31400}], "route": dest("v2")},
	]})
	v == {{"msg": "spec.tcp[1] can never be reached: every match repeats an earlier one"}}
}

test_match_names_ignored if {
	count(virtualservice_unreachable_route.violation) == 1 with input as review({"http": [
		{"match": [{"name": "a", "uri": {"prefix": "/api"}}], "route": dest("v1")},
		{"match": [{"name": "b", "uri": {"prefix": "/api"}}], "route": dest("v2")},
	]})
}

test_one_new_match_is_reachable if {
	count(virtualservice_unreachable_route.violation) == 0 with input as review({"tls": [
		{"match": [{"port": 443, "sniHosts": ["a.example.com"]}], "route": dest("v1")},
		{"match": [{"port": 443, "sniHosts": ["a.example.com"]}, {"port": 8443, "sniHosts": ["a.example.com"]}], "route": dest("v2")},
	]})
}
