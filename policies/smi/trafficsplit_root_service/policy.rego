# METADATA
# title: TrafficSplit root Service does not exist
# description: |
#   Clients address a TrafficSplit through its root Service, spec.service:
#   the mesh splits the traffic sent to that Service between the backends.
#   When the root Service does not exist, clients cannot resolve it and the
#   split never applies.
# custom:
#   id: MESH3001
#   severity: error
#   enforcement: warn
#   kinds: [split.smi-spec.io/TrafficSplit]
#   inventory: [Service]
#   remediation: |
#     Create the root Service (usually selecting the pods of every version) or
#     fix spec.service: a short name is looked up in the TrafficSplit's
#     namespace, name.namespace[.svc.cluster.local] in that namespace.
package mesh.smi.trafficsplit_root_service

import data.mesh.lib.k8s
import data.mesh.lib.routes
import rego.v1

violation contains {"msg": msg} if {
	root := k8s.subject.spec.service
	[ns, name] := routes.smi_service(root, k8s.namespace)
	not k8s.service(ns, name)
	msg := sprintf("spec.service %q: root Service %q does not exist in namespace %q", [root, name, ns])
}
