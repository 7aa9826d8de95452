# METADATA
# title: Mesh HTTPRoute is attached to a missing Service
# description: |
#   A GAMMA route attaches to a Service through a parentRef of kind Service
#   and applies to the traffic clients send to that Service. When the Service
#   does not exist the route is not accepted and routes nothing.
# custom:
#   id: MESH4004
#   severity: error
#   enforcement: warn
#   kinds: [gateway.networking.k8s.io/HTTPRoute]
#   inventory: [Service]
#   aliases: [KIA1402]
#   remediation: |
#     Create the Service or fix spec.parentRefs[].name and namespace: without
#     a namespace the Service is looked up in the route's namespace.
package mesh.gamma.httproute_parent_service_missing

import data.mesh.lib.k8s
import data.mesh.lib.routes
import rego.v1

violation contains {"msg": msg} if {
	some p in routes.service_parents(k8s.subject, k8s.namespace)
	not k8s.service(p.namespace, p.name)
	msg := sprintf("%s: parent Service %q does not exist in namespace %q", [p.path, p.name, p.namespace])
}
