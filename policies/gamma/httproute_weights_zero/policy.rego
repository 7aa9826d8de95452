# METADATA
# title: Mesh HTTPRoute rule gives every backend weight 0
# description: |
#   Gateway API sends no traffic to a backendRef of weight 0 (the default is
#   1). When every backendRef of a rule has weight 0, no request matching the
#   rule can reach a backend: each one gets an error response (500 per the
#   Gateway API spec, 503 from some implementations).
# custom:
#   id: MESH4003
#   severity: warning
#   enforcement: warn
#   kinds: [gateway.networking.k8s.io/HTTPRoute]
#   remediation: |
#     Give at least one backendRef of the rule a weight above 0, or remove the
#     rule if it should not match anything.
package mesh.gamma.httproute_weights_zero

import data.mesh.lib.k8s
import data.mesh.lib.routes
import rego.v1

violation contains {"msg": msg} if {
	route := k8s.subject
	routes.mesh_route(route)
	some i, rule in route.spec.rules
	refs := object.get(rule, "backendRefs", [])
	count(refs) > 0
	every ref in refs {
		object.get(ref, "weight", 1) == 0
	}
	msg := sprintf("spec.rules[%d]: all %d backendRefs have weight 0, so no request matching this rule reaches a backend", [i, count(refs)])
}
