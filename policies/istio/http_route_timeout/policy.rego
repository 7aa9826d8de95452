# METADATA
# title: HTTP route has no timeout
# description: |
#   Istio sets no request timeout on an HTTP route unless the route has one:
#   a request waits as long as the upstream takes, holding the caller's
#   connection and threads, and a slow dependency turns into a pile-up
#   instead of a fast failure that retries or a fallback could handle.
# custom:
#   id: MESH1113
#   severity: warning
#   enforcement: audit
#   kinds: [networking.istio.io/VirtualService]
#   remediation: |
#     Set spec.http[].timeout on every route that forwards to a destination,
#     for example `timeout: 10s`, a little above what the slowest legitimate
#     request needs. For streaming or long-polling routes that must not time
#     out, set `timeout: 0s` to record that the choice is deliberate.
package mesh.istio.http_route_timeout

import data.mesh.lib.k8s
import rego.v1

# A delegate VirtualService (no hosts) inherits the timeout of the root
# route that delegates to it, so only root and plain VirtualServices count.
delegate(vs) if count(object.get(vs, ["spec", "hosts"], [])) == 0

name(route) := sprintf(" (%q)", [route.name]) if route.name

name(route) := "" if not route.name

# One pass over the routes, the cheapest test first: most routes have a
# timeout. Routes that forward upstream count; redirects and direct
# responses answer at the proxy, delegations carry their routes elsewhere.
violation contains {"msg": msg} if {
	vs := k8s.subject
	not delegate(vs)
	some i, route in object.get(vs, ["spec", "http"], [])
	object.get(route, "timeout", null) == null
	count(object.get(route, "route", [])) > 0
	not route.redirect
	not route.directResponse
	not route.delegate
	msg := sprintf(
		"spec.http[%d]%s routes to %q without a timeout; requests wait as long as the upstream takes",
		[i, name(route), route.route[0].destination.host],
	)
}
