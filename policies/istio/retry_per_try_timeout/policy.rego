# METADATA
# title: Retries on timeouts have no usable per-try timeout
# description: |
#   A route that retries on 5xx, gateway-error or reset means to retry an
#   upstream that does not answer. Without retries.perTryTimeout an attempt
#   may use the whole route timeout (or wait forever when the route has
#   none), so a hung attempt is never retried; a perTryTimeout at or above
#   the route timeout has the same effect.
# custom:
#   id: MESH1114
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService]
#   remediation: |
#     Set retries.perTryTimeout below the route timeout, so that attempts
#     times perTryTimeout fits in it: for example timeout 10s, attempts 3,
#     perTryTimeout 3s.
package mesh.istio.retry_per_try_timeout

import data.mesh.lib.k8s
import rego.v1

# retryOn conditions under which Envoy retries an attempt that hit its
# per-try timeout. Istio's default retryOn (connect-failure, refused-stream,
# unavailable, cancelled, retriable-status-codes) retries fast failures only;
# a per-try timeout there would just fail the request early.
timeout_conditions := {"5xx", "gateway-error", "reset"}

retries_timeouts(retries) if {
	some condition in split(object.get(retries, "retryOn", ""), ",")
	trim_space(condition) in timeout_conditions
}

retrying(route) if {
	attempts := route.retries.attempts
	is_number(attempts)
	attempts > 0
	not route.redirect
	not route.directResponse
}

# Go-style durations as Istio accepts them: 1h, 1m, 1.5s, 250ms.
duration_ns(d) := time.parse_duration_ns(d) if {
	is_string(d)
	regex.match(`^([0-9]+(\.[0-9]+)?(h|m|s|ms|us|ns))+$`, d)
}

# The fields of an HTTP route that the findings read.
route_fields := {"retries", "timeout", "redirect", "directResponse"}

# The distinct HTTP routes as far as those fields go: a route table
# repeats one retry policy on most routes, so each is tested once.
route_shapes contains object.filter(route, route_fields) if {
	some route in object.get(k8s.subject, ["spec", "http"], [])
}

missing_per_try contains shape if {
	some shape in route_shapes
	retrying(shape)
	retries_timeouts(shape.retries)
	object.get(shape.retries, "perTryTimeout", null) == null
}

per_try_not_below_timeout contains shape if {
	some shape in route_shapes
	retrying(shape)
	retries_timeouts(shape.retries)
	duration_ns(shape.retries.perTryTimeout) >= duration_ns(shape.timeout)
	duration_ns(shape.timeout) > 0
}

# Paths and messages only for the routes reported.
violation contains {"msg": msg} if {
	count(missing_per_try) > 0
	some i, route in object.get(k8s.subject, ["spec", "http"], [])
	object.filter(route, route_fields) in missing_per_try
	msg := sprintf(
		"spec.http[%d].retries: %d attempts on %q without perTryTimeout; an attempt that hangs uses %s and is never retried",
		[i, route.retries.attempts, route.retries.retryOn, budget(route)],
	)
}

violation contains {"msg": msg} if {
	count(per_try_not_below_timeout) > 0
	some i, route in object.get(k8s.subject, ["spec", "http"], [])
	object.filter(route, route_fields) in per_try_not_below_timeout
	msg := sprintf(
		"spec.http[%d].retries.perTryTimeout %s is not below the route timeout %s; an attempt that hangs uses the whole timeout and is never retried",
		[i, route.retries.perTryTimeout, route.timeout],
	)
}

budget(route) := sprintf("the whole route timeout %s", [route.timeout]) if object.get(route, "timeout", null) != null

budget(route) := "an unbounded time (the route has no timeout either)" if object.get(route, "timeout", null) == null
