# METADATA
# title: ServiceProfile route has no timeout
# description: |
#   Each route of a ServiceProfile may set a timeout: how long the client
#   proxy waits for a response, retries included, before failing the request
#   with a 504. Linkerd applies no timeout to a route that sets none (older
#   documentation mentioned a 10s default, which no longer exists), and a
#   timeout that is not a valid duration is logged and ignored by the
#   destination controller. While a ServiceProfile exists for a Service,
#   the proxies also ignore timeout annotations (timeout.linkerd.io/*) on
#   the Service and its routes, so the route timeout is the only one in
#   force: slow backends then tie up clients for as long as they take.
# custom:
#   id: MESH2005
#   severity: warning
#   enforcement: audit
#   kinds: [linkerd.io/ServiceProfile]
#   remediation: |
#     Set spec.routes[].timeout to a Go duration (300ms, 5s, 1m) a little
#     above the route's expected worst-case latency, retries included.
package mesh.linkerd.serviceprofile_route_timeout

import data.mesh.lib.k8s
import rego.v1

# Go's time.ParseDuration syntax: "0", or signed numbers with units.
duration_pattern := `^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`

routes contains [i, route, where] if {
	some i, route in object.get(k8s.subject, ["spec", "routes"], [])
	where := sprintf("spec.routes[%d] (%q)", [i, object.get(route, "name", "")])
}

violation contains {"msg": msg} if {
	some [_, route, where] in routes
	object.get(route, "timeout", "") == ""
	msg := sprintf("%s has no timeout: Linkerd applies none by default, so requests wait as long as the backend takes", [where])
}

violation contains {"msg": msg} if {
	some [_, route, where] in routes
	timeout := route.timeout
	timeout != ""
	not regex.match(duration_pattern, sprintf("%v", [timeout]))
	msg := sprintf("%s: timeout %q is not a duration such as 300ms or 5s, and Linkerd ignores it", [where, sprintf("%v", [timeout])])
}

violation contains {"msg": msg} if {
	some [_, route, where] in routes
	is_string(route.timeout)
	regex.match(duration_pattern, route.timeout)
	time.parse_duration_ns(route.timeout) <= 0
	msg := sprintf("%s: timeout %q disables the timeout", [where, route.timeout])
}
