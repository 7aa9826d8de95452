# METADATA
# title: Object of a pattern changed outside kubectl mesh
# description: |
#   kubectl mesh apply writes a pattern's objects with server-side apply as
#   the field manager kubectl-mesh and labels them kubectl-mesh.io/pattern.
#   A change to their spec, labels or annotations by any other field manager
#   (kubectl edit, kubectl patch, a controller) drifts from the pattern: the
#   next kubectl mesh apply takes the fields back, or keeps fields the
#   pattern never had. The change is admitted with a warning; a pattern with
#   spec.drift: lock is guarded by MESH5005 instead.
# custom:
#   id: MESH5004
#   severity: warning
#   enforcement: warn
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
#   operations: [CREATE, UPDATE]
#   requires:
#     labels: [kubectl-mesh.io/pattern]
#   remediation: |
#     Change the pattern file instead and run kubectl mesh apply -f; kubectl
#     mesh diff -f shows what differs from the pattern. To keep the change,
#     put it in the pattern; to drop it, kubectl mesh apply restores the
#     pattern's fields.
package mesh.any.pattern_drift

import data.mesh.lib.drift
import rego.v1

violation contains {"msg": msg} if {
	not drift.locked
	some w in drift.foreign
	msg := sprintf("%s %s %s of this object of pattern %q outside kubectl mesh: kubectl mesh diff shows the drift, kubectl mesh apply restores the pattern", [
		drift.describe_manager(w.manager), drift.verb, drift.describe_sections(w.sections), drift.pattern,
	])
}
