# METADATA
# title: Object of a locked pattern changed outside kubectl mesh
# description: |
#   A pattern with spec.drift: lock puts the annotation
#   kubectl-mesh.io/drift: lock on its objects: only kubectl mesh (field
#   manager kubectl-mesh) may change their spec, labels or annotations, and
#   nobody may delete them while they are locked. kubectl mesh delete
#   unlocks them before it deletes them. Deletions by the namespace
#   controller and the garbage collector are not refused.
# custom:
#   id: MESH5005
#   severity: error
#   enforcement: deny
#   kinds:
#     - networking.istio.io/VirtualService
#     - networking.istio.io/DestinationRule
#     - networking.istio.io/Gateway
#     - networking.istio.io/ServiceEntry
#     - networking.istio.io/Sidecar
#     - networking.istio.io/EnvoyFilter
#     - security.istio.io/PeerAuthentication
#     - security.istio.io/AuthorizationPolicy
#     - security.istio.io/RequestAuthentication
#     - policy.linkerd.io/Server
#     - policy.linkerd.io/AuthorizationPolicy
#     - policy.linkerd.io/MeshTLSAuthentication
#     - policy.linkerd.io/HTTPRoute
#     - linkerd.io/ServiceProfile
#     - split.smi-spec.io/TrafficSplit
#     - access.smi-spec.io/TrafficTarget
#     - specs.smi-spec.io/HTTPRouteGroup
#     - gateway.networking.k8s.io/HTTPRoute
#     - gateway.networking.k8s.io/GRPCRoute
#     - Service
#   operations: [CREATE, UPDATE, DELETE]
#   requires:
#     labels: [kubectl-mesh.io/pattern]
#     annotations: [kubectl-mesh.io/drift]
#   remediation: |
#     Change the pattern file and run kubectl mesh apply -f (kubectl mesh
#     diff -f shows what differs). To delete the objects, run kubectl mesh
#     delete -f. To allow changes by hand, set spec.drift: warn in the
#     pattern and run kubectl mesh apply -f. The webhook only sees DELETE
#     when its configuration registers it (chart value webhook.operations).
package mesh.any.pattern_drift_lock

import data.mesh.lib.drift
import rego.v1

violation contains {"msg": msg} if {
	drift.locked
	some w in drift.foreign
	msg := sprintf("pattern %q locks this object (kubectl-mesh.io/drift: lock): %s %s %s; change the pattern and run kubectl mesh apply, kubectl mesh diff shows what differs", [
		drift.pattern, drift.describe_manager(w.manager), drift.verb, drift.describe_sections(w.sections),
	])
}

violation contains {"msg": msg} if {
	input.review.operation == "DELETE"
	drift.locked
	drift.pattern
	user := input.review.userInfo.username
	not drift.system_deleter(user)
	msg := sprintf("pattern %q locks this object (kubectl-mesh.io/drift: lock): user %q may not delete it; kubectl mesh delete removes the pattern's objects, or set spec.drift: warn and run kubectl mesh apply to unlock it", [
		drift.pattern, user,
	])
}
