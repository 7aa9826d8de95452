# METADATA
# title: Mesh HTTPRoute sends traffic to a missing Service
# description: |
#   An HTTPRoute attached to a Service (a GAMMA mesh route) forwards the
#   requests it matches to its backendRefs. A backendRef naming a Service that
#   does not exist is invalid: the route reports ResolvedRefs=False and the
#   share of traffic meant for that backend gets an error response.
# custom:
#   id: MESH4001
#   severity: error
#   enforcement: warn
#   kinds: [gateway.networking.k8s.io/HTTPRoute]
#   inventory: [Service]
#   aliases: [KIA1402]
#   remediation: |
#     Create the Service or fix spec.rules[].backendRefs[].name and namespace:
#     without a namespace the backend is looked up in the route's namespace.
package mesh.gamma.httproute_backend_missing

import data.mesh.lib.k8s
import data.mesh.lib.routes
import rego.v1

violation contains {"msg": msg} if {
	route := k8s.subject
	routes.mesh_route(route)
	some b in routes.backend_refs(route, k8s.namespace)
	routes.service_backend(b)
	not k8s.service(b.namespace, b.name)
	msg := sprintf("%s: backend Service %q does not exist in namespace %q", [b.path, b.name, b.namespace])
}
