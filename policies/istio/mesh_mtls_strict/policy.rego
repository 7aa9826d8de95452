# METADATA
# title: Mesh-wide mTLS is not STRICT
# description: |
#   A PeerAuthentication without selector in the root namespace sets the mTLS
#   mode of the whole mesh. Unless it is STRICT, every workload that has no
#   stricter namespace or workload PeerAuthentication accepts plaintext, so
#   peer identities (and authorization policies on principals or namespaces)
#   can be bypassed by a client outside the mesh. A mode that is not set
#   means PERMISSIVE at mesh level. The root namespace is taken to be
#   istio-system, Istio's default meshConfig.rootNamespace.
# custom:
#   id: MESH1302
#   severity: warning
#   enforcement: warn
#   kinds: [security.istio.io/PeerAuthentication]
#   remediation: |
#     Once every workload has a sidecar (or is in ambient mode), set
#     spec.mtls.mode STRICT in the mesh-wide PeerAuthentication, and keep
#     PERMISSIVE only in namespace or workload PeerAuthentications of the
#     workloads that still receive plaintext.
package mesh.istio.mesh_mtls_strict

import data.mesh.lib.istio_config
import data.mesh.lib.k8s
import rego.v1

root_namespace := istio_config.root_namespace

match_labels(pa) := l if {
	l := pa.spec.selector.matchLabels
	is_object(l)
} else := {}

mesh_wide(pa) if count(match_labels(pa)) == 0

mode := upper(m) if {
	m := k8s.subject.spec.mtls.mode
	is_string(m)
} else := "UNSET"

shown("UNSET") := "not set (PERMISSIVE at mesh level)"

shown(m) := m if m != "UNSET"

violation contains {"msg": msg} if {
	k8s.namespace == root_namespace
	mesh_wide(k8s.subject)
	mode != "STRICT"
	msg := sprintf("spec.mtls.mode is %s in this mesh-wide PeerAuthentication (root namespace %s, no selector): workloads without a stricter PeerAuthentication accept plaintext", [shown(mode), root_namespace])
}
