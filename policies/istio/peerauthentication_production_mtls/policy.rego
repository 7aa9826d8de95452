# METADATA
# title: PeerAuthentication disables mTLS in a production namespace
# description: |
#   mtls.mode DISABLE makes the selected workloads (or one port of them, in
#   portLevelMtls) accept plaintext from any client, without peer identity, so
#   authorization policies on principals or namespaces no longer hold. A
#   namespace is production when it is labelled environment or env with the
#   value production or prod (any case). PERMISSIVE is not reported here: it
#   is Istio's default and the documented migration mode, and mesh clients
#   still use mTLS; MESH1302 covers the mesh-wide mode. A PeerAuthentication
#   whose Namespace is not known (not in the cluster or the files checked)
#   is not reported.
# custom:
#   id: MESH1301
#   severity: error
#   enforcement: deny
#   kinds: [security.istio.io/PeerAuthentication]
#   inventory: [Namespace]
#   remediation: |
#     Use mode STRICT, or PERMISSIVE while clients outside the mesh still
#     call the workload. If a port must accept plaintext (for example a
#     webhook called by the API server), prefer PERMISSIVE for that port in
#     portLevelMtls; a deliberate exception can be recorded with the
#     annotation kubectl-mesh.io/suppress: MESH1301.
package mesh.istio.peerauthentication_production_mtls

import data.mesh.lib.k8s
import rego.v1

environment_labels := ["environment", "env"]

production_values := {"production", "prod"}

# The label that marks the namespace as production, as key=value.
production_label := matches[0] if {
	labels := object.get(k8s.namespace_object(k8s.namespace), ["metadata", "labels"], {})
	matches := [sprintf("%s=%s", [key, value]) |
		some key in environment_labels
		value := labels[key]
		is_string(value)
		lower(value) in production_values
	]
	count(matches) > 0
}

pa := k8s.subject

selector := l if {
	l := pa.spec.selector.matchLabels
	is_object(l)
} else := {}

scope := sprintf("workloads with labels %s", [concat(",", sort([sprintf("%s=%s", [k, v]) | some k, v in selector]))]) if count(selector) > 0

scope := "every workload in the namespace" if count(selector) == 0

violation contains {"msg": msg} if {
	upper(pa.spec.mtls.mode) == "DISABLE"
	msg := sprintf("spec.mtls.mode is DISABLE in production namespace %q (%s): plaintext from any client is accepted by %s", [k8s.namespace, production_label, scope])
}

violation contains {"msg": msg} if {
	some port, setting in pa.spec.portLevelMtls
	upper(setting.mode) == "DISABLE"
	msg := sprintf("spec.portLevelMtls[%v].mode is DISABLE in production namespace %q (%s): plaintext from any client is accepted on port %v of %s", [port, k8s.namespace, production_label, port, scope])
}
