# METADATA
# title: TrafficSplit weights are negative or all zero
# description: |
#   TrafficSplit backends share the root Service's traffic in proportion to
#   their weights. A negative weight has no meaning and is rejected or
#   mishandled by implementations; when every weight is 0 the split sends
#   the traffic nowhere and every request to the root Service fails.
# custom:
#   id: MESH3003
#   severity: error
#   enforcement: deny
#   kinds: [split.smi-spec.io/TrafficSplit]
#   remediation: |
#     Use weights of 0 or more, with at least one backend above 0 (the
#     weights are relative: 90 and 10, or 9 and 1, split the same way).
package mesh.smi.trafficsplit_weights

import data.mesh.lib.k8s
import data.mesh.lib.routes
import rego.v1

backends := object.get(k8s.subject, ["spec", "backends"], [])

violation contains {"msg": msg} if {
	some i, backend in backends
	routes.smi_weight(backend) < 0
	msg := sprintf("spec.backends[%d].weight is %v: a weight must not be negative", [i, backend.weight])
}

violation contains {"msg": msg} if {
	count(backends) > 0
	every backend in backends {
		routes.smi_weight(backend) == 0
	}
	msg := sprintf("spec.backends: all %d backends have weight 0, so the TrafficSplit sends traffic to none of them", [count(backends)])
}
