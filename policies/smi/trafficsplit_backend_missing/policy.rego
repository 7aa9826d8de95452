# METADATA
# title: TrafficSplit backend Service does not exist
# description: |
#   Each spec.backends[].service of a TrafficSplit is a Service that receives
#   its weight's share of the root Service's traffic. A backend that does not
#   exist cannot take that share: its requests fail. Backends of weight 0 are
#   not reported, since the SMI rollout workflow creates the split before the
#   new version's Service.
# custom:
#   id: MESH3002
#   severity: error
#   enforcement: warn
#   kinds: [split.smi-spec.io/TrafficSplit]
#   inventory: [Service]
#   remediation: |
#     Create the backend Service, fix spec.backends[].service (a Service in the
#     TrafficSplit's namespace), or set the backend's weight to 0 until the
#     Service exists.
package mesh.smi.trafficsplit_backend_missing

import data.mesh.lib.k8s
import data.mesh.lib.routes
import rego.v1

violation contains {"msg": msg} if {
	some i, backend in k8s.subject.spec.backends
	routes.smi_weight(backend) != 0
	[ns, name] := routes.smi_service(backend.service, k8s.namespace)
	not k8s.service(ns, name)
	msg := sprintf("spec.backends[%d].service %q: backend Service %q does not exist in namespace %q, yet it has weight %v", [i, backend.service, name, ns, backend.weight])
}
