package mesh.istio.retry_per_try_timeout_test

import data.mesh.istio.retry_per_try_timeout
import rego.v1

review(http) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": {"name": "ratings", "namespace": "shop"},
		"spec": {"hosts": ["ratings"], "http": http},
	},
}}

route(extra) := object.union({"route": [{"destination": {"host": "ratings"}}]}, extra)

test_per_try_timeout_allowed if {
	count(retry_per_try_timeout.violation) == 0 with input as review([route({
		"timeout": "10s",
		"retries": {"attempts": 3, "perTryTimeout": "3s", "retryOn": "5xx,connect-failure"},
	})])
}

test_default_retry_on_needs_no_per_try_timeout if {
	# Istio's default retryOn retries fast failures only.
	count(retry_per_try_timeout.violation) == 0 with input as review([route({"timeout": "10s", "retries": {"attempts": 3}})])
	count(retry_per_try_timeout.violation) == 0 with input as review([route({"retries": {"attempts": 2, "retryOn": "connect-failure,refused-stream,503"}})])
}

test_retries_disabled_allowed if {
	count(retry_per_try_timeout.violation) == 0 with input as review([route({"retries": {"attempts": 0, "retryOn": "5xx"}})])
	count(retry_per_try_timeout.violation) == 0 with input as review([route({"timeout": "5s"})])
}

test_missing_per_try_timeout_with_route_timeout_denied if {
	v := retry_per_try_timeout.violation with input as review([route({
		"timeout": "10s",
		"retries": {"attempts": 3, "retryOn": "gateway-error,connect-failure"},
	})])
	v == {{"msg": `spec.http[0].retries: 3 attempts on "gateway-error,connect-failure" without perTryTimeout; an attempt that hangs uses the whole route timeout 10s and is never retried`}}
}

test_missing_per_try_timeout_without_route_timeout_denied if {
	v := retry_per_try_timeout.violation with input as review([
		route({"timeout": "2s"}),
		route({"retries": {"attempts": 2, "retryOn": "connect-failure, 5xx"}}),
	])
	v == {{"msg": `spec.http[1].retries: 2 attempts on "connect-failure, 5xx" without perTryTimeout; an attempt that hangs uses an unbounded time (the route has no timeout either) and is never retried`}}
}

test_per_try_timeout_not_below_route_timeout_denied if {
	v := retry_per_try_timeout.violation with input as review([route({
		"timeout": "2s",
		"retries": {"attempts": 3, "perTryTimeout": "2000ms", "retryOn": "reset"},
	})])
	v == {{"msg": `spec.http[0].retries.perTryTimeout 2000ms is not below the route timeout 2s; an attempt that hangs uses the whole timeout and is never retried`}}
}

test_unparsable_durations_are_left_alone if {
	count(retry_per_try_timeout.violation) == 0 with input as review([route({
		"timeout": "soon",
		"retries": {"attempts": 3, "perTryTimeout": "1s", "retryOn": "5xx"},
	})])
	count(retry_per_try_timeout.violation) == 0 with input as review([route({
		"timeout": "0s",
		"retries": {"attempts": 3, "perTryTimeout": "1s", "retryOn": "5xx"},
	})])
}

test_routes_with_the_same_retries_each_reported if {
	# Routes are tested once per distinct retry policy, reported each.
	same := {"timeout": "2s", "retries": {"attempts": 2, "perTryTimeout": "2s", "retryOn": "5xx"}}
	v := retry_per_try_timeout.violation with input as review([route(same), route({"timeout": "1s"}), route(same)])
	v == {
		{"msg": "spec.http[0].retries.perTryTimeout 2s is not below the route timeout 2s; an attempt that hangs uses the whole timeout and is never retried"},
		{"msg": "spec.http[2].retries.perTryTimeout 2s is not below the route timeout 2s; an attempt that hangs uses the whole timeout and is never retried"},
	}
}
