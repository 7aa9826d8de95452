# METADATA
# title: VirtualService route can never be reached
# description: |
#   Istio tries a VirtualService's http, tcp and tls routes in order and
#   uses the first whose match fits. A route after one without match (which
#   takes every request), or whose every match repeats an earlier one,
#   never gets a request: its destinations, retries and timeouts never
#   apply.
# custom:
#   id: MESH1120
#   severity: error
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService]
#   aliases: [IST0130]
#   remediation: |
#     Move the route without match to the end, or remove the repeated
#     route; merge what it was meant to do into the earlier route.
package mesh.istio.virtualservice_unreachable_route

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

routes(kind) := r if {
	r := k8s.subject.spec[kind]
	is_array(r)
} else := []

violation contains {"msg": msg} if {
	some kind, first in traffic.subject_catch_all
	first < count(routes(kind)) - 1 # most route tables end with their catch-all
	some i, _ in routes(kind)
	i > first
	msg := sprintf("spec.%s[%d] can never be reached: spec.%s[%d] before it has no match and takes every request", [kind, i, kind, first])
}

# A route whose every match repeats an earlier one (of an earlier route or
# of its own) is never reached.
violation contains {"msg": msg} if {
	count(traffic.subject_repeated_matches) > 0
	some [kind, [i, route]] in {[kind, [i, n]] |
		some [kind, [i, _], _] in traffic.subject_repeated_matches
		n := count(k8s.subject.spec[kind][i].match)
	}
	count({j | some [kind2, [i2, j], _] in traffic.subject_repeated_matches; kind2 == kind; i2 == i}) == route
	msg := sprintf("spec.%s[%d] can never be reached: every match repeats an earlier one", [kind, i])
}
