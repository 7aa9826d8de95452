package mesh.istio.http_route_timeout_test

import data.mesh.istio.http_route_timeout
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

to(host) := [{"destination": {"host": host}}]

test_route_with_timeout_allowed if {
	count(http_route_timeout.violation) == 0 with input as review({"http": [{"route": to("reviews"), "timeout": "5s"}]})
}

test_explicit_zero_timeout_allowed if {
	count(http_route_timeout.violation) == 0 with input as review({"http": [{"route": to("reviews"), "timeout": "0s"}]})
}

test_redirect_and_direct_response_skipped if {
	count(http_route_timeout.violation) == 0 with input as review({"http": [
		{"match": [{"uri": {"prefix": "/old"}}], "redirect": {"uri": "/new"}},
		{"match": [{"uri": {"prefix": "/health"}}], "directResponse": {"status": 200}},
	]})
}

test_delegation_skipped if {
	# The root route delegates; the delegate VirtualService has no hosts.
	count(http_route_timeout.violation) == 0 with input as review({"http": [{"delegate": {"name": "reviews-api", "namespace": "shop"}}]})
	count(http_route_timeout.violation) == 0 with input as review({"hosts": [], "http": [{"route": to("reviews")}]})
}

test_tcp_only_allowed if {
	count(http_route_timeout.violation) == 0 with input as review({"tcp": [{"route": to("reviews")}]})
}

test_missing_timeout_denied if {
	v := http_route_timeout.violation with input as review({"http": [
		{"name": "v2", "match": [{"headers": {"end-user": {"exact": "jason"}}}], "route": to("reviews-v2"), "timeout": "3s"},
		{"name": "default", "route": to("reviews")},
	]})
	v == {{"msg": `spec.http[1] ("default") routes to "reviews" without a timeout; requests wait as long as the upstream takes`}}
}

test_every_route_reported if {
	v := http_route_timeout.violation with input as review({"http": [
		{"match": [{"uri": {"prefix": "/a"}}], "route": to("a")},
		{"route": to("b")},
	]})
	v == {
		{"msg": `spec.http[0] routes to "a" without a timeout; requests wait as long as the upstream takes`},
		{"msg": `spec.http[1] routes to "b" without a timeout; requests wait as long as the upstream takes`},
	}
}
