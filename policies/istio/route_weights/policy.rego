# METADATA
# title: Route destinations have no positive total weight
# description: |
#   Istio splits a route's traffic in proportion to its destinations'
#   weights (weight / sum of weights; since Istio 1.15 the sum need not be
#   100). A route with several destinations whose weights are all zero or
#   unset, or with a negative weight, has no valid split: istiod rejects the
#   VirtualService ("total destination weight = 0", "weight < 0"), and a copy
#   that got past validation is ignored.
# custom:
#   id: MESH1115
#   severity: error
#   enforcement: deny
#   kinds: [networking.istio.io/VirtualService]
#   remediation: |
#     Give the destinations non-negative weights with a positive sum, for
#     example 90 and 10. An unset weight counts as 0; with a single
#     destination, leave the weight out.
package mesh.istio.route_weights

import data.mesh.lib.k8s
import rego.v1

weight(dest) := w if {
	w := object.get(dest, "weight", 0)
	is_number(w)
}

# The distinct destination lists of the routes: a route table repeats the
# same split on many routes, so each list is tested once.
destination_lists contains object.get(route, "route", []) if {
	some kind in ["http", "tcp", "tls"]
	some route in object.get(k8s.subject, ["spec", kind], [])
}

zero_sum_lists contains destinations if {
	some destinations in destination_lists
	count(destinations) > 1
	sum([weight(d) | some d in destinations]) == 0
	every d in destinations {
		weight(d) >= 0
	}
}

negative_lists contains destinations if {
	some destinations in destination_lists
	some dest in destinations
	weight(dest) < 0
}

# Paths and messages only for the routes reported.
violation contains {"msg": msg} if {
	count(zero_sum_lists) > 0
	some kind in ["http", "tcp", "tls"]
	some i, route in object.get(k8s.subject, ["spec", kind], [])
	destinations := object.get(route, "route", [])
	destinations in zero_sum_lists
	msg := sprintf(
		"spec.%s[%d].route has %d destinations and their weights sum to 0 (an unset weight is 0); istiod rejects it with \"total destination weight = 0\"",
		[kind, i, count(destinations)],
	)
}

violation contains {"msg": msg} if {
	count(negative_lists) > 0
	some kind in ["http", "tcp", "tls"]
	some i, route in object.get(k8s.subject, ["spec", kind], [])
	object.get(route, "route", []) in negative_lists
	some j, dest in object.get(route, "route", [])
	weight(dest) < 0
	msg := sprintf("spec.%s[%d].route[%d].weight is %v; weights must not be negative", [kind, i, j, dest.weight])
}
