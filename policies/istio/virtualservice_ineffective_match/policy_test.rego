package mesh.istio.virtualservice_ineffective_match_test

import data.mesh.istio.virtualservice_ineffective_match
import rego.v1

review(spec) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
	"metadata": {"name": "products", "namespace": "shop"},
	"spec": object.union({"hosts": ["products"]}, spec),
}}}

dest := [{"destination": {"host": "products"}}]

test_longest_prefix_first_allowed if {
	count(virtualservice_ineffective_match.violation) == 0 with input as review({"http": [
		{"match": [{"uri": {"prefix": "/api/v1/products"}}], "route": dest},
		{"match": [{"uri": {"prefix": "/api/v1/product"}}], "route": dest},
	]})
}

test_shadowed_prefix_denied if {
	v := virtualservice_ineffective_match.violation with input as review({"http": [
		{"match": [{"uri": {"prefix": "/api/v1/product"}}], "route": dest},
		{"match": [{"uri": {"prefix": "/api/v1/products"}, "method": {"exact": "GET"}}], "route": dest},
	]})
	v == {{"msg": "spec.http[1].match[0] (prefix /api/v1/products) is shadowed by spec.http[0].match[0] (prefix /api/v1/product), which takes all its requests"}}
}

test_other_conditions_allowed if {
	count(virtualservice_ineffective_match.violation) == 0 with input as review({"http": [
		{"match": [{"uri": {"prefix": "/api"}, "method": {"exact": "GET"}}], "route": dest},
		{"match": [{"uri": {"prefix": "/api/v1"}, "method": {"exact": "POST"}}], "route": dest},
	]})
}

test_repeated_match_denied if {
	v := virtualservice_ineffective_match.violation with input as review({"tcp": [
		{"match": [{"port": 31400}], "route": dest},
		{"match": [{"port": 31400}, {"port": 31401}], "route": dest},
	]})
	v == {{"msg": "spec.tcp[1].match[0] repeats spec.tcp[0].match[0], which takes all its requests"}}
}

test_repeated_within_one_route_denied if {
	v := virtualservice_ineffective_match.violation with input as review({"http": [
		{"match": [{"uri": {"exact": "/"}}, {"name": "again", "uri": {"exact": "/"}}], "route": dest},
	]})
	v == {{"msg": "spec.http[0].match[1] repeats spec.http[0].match[0], which takes all its requests"}}
}
