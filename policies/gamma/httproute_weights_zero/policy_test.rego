package mesh.gamma.httproute_weights_zero_test

import data.mesh.gamma.httproute_weights_zero
import rego.v1

review(rules) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": {"name": "reviews", "namespace": "shop"},
		"spec": {
			"parentRefs": [{"group": "", "kind": "Service", "name": "reviews"}],
			"rules": rules,
		},
	},
}}

test_canary_with_one_zero_weight_allowed if {
	count(httproute_weights_zero.violation) == 0 with input as review([{"backendRefs": [
		{"name": "reviews-v1", "port": 9080, "weight": 100},
		{"name": "reviews-v2", "port": 9080, "weight": 0},
	]}])
}

test_default_weight_is_one if {
	count(httproute_weights_zero.violation) == 0 with input as review([{"backendRefs": [
		{"name": "reviews-v1", "port": 9080},
		{"name": "reviews-v2", "port": 9080, "weight": 0},
	]}])
}

test_all_zero_denied if {
	v := httproute_weights_zero.violation with input as review([
		{"backendRefs": [{"name": "reviews-v1", "port": 9080}]},
		{"backendRefs": [
			{"name": "reviews-v1", "port": 9080, "weight": 0},
			{"name": "reviews-v2", "port": 9080, "weight": 0},
		]},
	])
	v == {{"msg": "spec.rules[1]: all 2 backendRefs have weight 0, so no request matching this rule reaches a backend"}}
}

test_single_zero_weight_denied if {
	count(httproute_weights_zero.violation) == 1 with input as review([{"backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": 0}]}])
}

test_rule_without_backends_allowed if {
	# A redirect rule has no backendRefs at all.
	count(httproute_weights_zero.violation) == 0 with input as review([{"filters": [{
		"type": "RequestRedirect",
		"requestRedirect": {"path": {"type": "ReplaceFullPath", "replaceFullPath": "/v2"}},
	}]}])
}

test_gateway_route_not_checked if {
	gateway_route := json.patch(review([{"backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": 0}]}]), [{
		"op": "replace", "path": "/review/object/spec/parentRefs", "value": [{"name": "public-gw"}],
	}])
	count(httproute_weights_zero.violation) == 0 with input as gateway_route
}
