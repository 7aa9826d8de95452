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

import data.mesh.lib.k8s
import rego.v1

routes(kind) := r if {
	r := k8s.subject.spec[kind]
	is_array(r)
} else := []

matches(route) := m if {
	m := route.match
	is_array(m)
} else := []

# The first route of a kind without any match.
catch_all[kind] := min({i | some i, route in routes(kind); count(matches(route)) == 0}) if {
	some kind in ["http", "tcp", "tls"]
}

# HTTP match names do not route; TCP and TLS matches have none.
key(m) := object.remove(m, {"name"})

violation contains {"msg": msg} if {
	some kind, first in catch_all
	first < count(routes(kind)) - 1 # most route tables end with their catch-all
	some i, _ in routes(kind)
	i > first
	msg := sprintf("spec.%s[%d] can never be reached: spec.%s[%d] before it has no match and takes every request", [kind, i, kind, first])
}

# Kinds with two routes or more that have matches: only there can every
# match of a route repeat an earlier one.
repeatable contains kind if {
	some kind in ["http", "tcp", "tls"]
	count([r | some r in routes(kind); count(matches(r)) > 0]) > 1
}

violation contains {"msg": msg} if {
	some kind in repeatable
	some i, route in routes(kind)
	not after_catch_all(kind, i)
	ms := matches(route)
	count(ms) > 0
	earlier := {key(m) | some j, r in routes(kind); j < i; some m in matches(r)}
	every n, m in ms {
		repeated(key(m), earlier, ms, n)
	}
	msg := sprintf("spec.%s[%d] can never be reached: every match repeats an earlier one", [kind, i])
}

after_catch_all(kind, i) if i > catch_all[kind]

repeated(k, earlier, _, _) if k in earlier

repeated(k, _, ms, n) if {
	some p, other in ms
	p < n
	key(other) == k
}
