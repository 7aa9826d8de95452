# METADATA
# title: Several Telemetries without selector in a namespace
# description: |
#   A Telemetry without spec.selector (and without targetRefs) is the
#   default of its namespace. With more than one, Istio applies only one of
#   them and which one is undefined.
# custom:
#   id: MESH1403
#   severity: error
#   enforcement: warn
#   kinds: [telemetry.istio.io/Telemetry]
#   inventory: [telemetry.istio.io/Telemetry]
#   aliases: [IST0160]
#   remediation: |
#     Merge the namespace-wide Telemetries into one, or give all but one a
#     selector.
package mesh.istio.telemetry_default_conflict

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

namespace_wide(t) if {
	not t.spec.selector
	count(traffic.target_refs(t)) == 0
}

violation contains {"msg": msg} if {
	namespace_wide(k8s.subject)
	others := sort([t.metadata.name |
		some t in k8s.namespaced(k8s.namespace, "telemetry.istio.io", "Telemetry")
		t.metadata.name != k8s.subject.metadata.name
		namespace_wide(t)
	])
	count(others) > 0
	msg := sprintf("Telemetry %s of namespace %s has no selector, nor does %s: Istio applies only one namespace-wide Telemetry", [k8s.subject.metadata.name, k8s.namespace, concat(", ", others)])
}
