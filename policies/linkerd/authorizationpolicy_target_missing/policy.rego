# METADATA
# title: Linkerd AuthorizationPolicy references a missing resource
# description: |
#   An AuthorizationPolicy authorizes the clients described by its
#   requiredAuthenticationRefs to reach its targetRef: a Server, an
#   HTTPRoute or GRPCRoute, or its own Namespace. When the target does not
#   exist the policy authorizes nothing, and the traffic it was written to
#   allow stays denied by the Server's default. When a required
#   MeshTLSAuthentication or NetworkAuthentication does not exist, no client
#   can satisfy it. ServiceAccount references are not checked: every
#   namespace has a default ServiceAccount that manifests rarely carry.
# custom:
#   id: MESH2003
#   severity: error
#   enforcement: warn
#   kinds: [policy.linkerd.io/AuthorizationPolicy]
#   inventory: [policy.linkerd.io/Server, policy.linkerd.io/HTTPRoute, policy.linkerd.io/GRPCRoute, gateway.networking.k8s.io/HTTPRoute, gateway.networking.k8s.io/GRPCRoute, policy.linkerd.io/MeshTLSAuthentication, policy.linkerd.io/NetworkAuthentication]
#   remediation: |
#     Fix the name, kind or group of the reference, or create the Server,
#     route or authentication it names. A targetRef resolves in the
#     AuthorizationPolicy's namespace; a requiredAuthenticationRef in its
#     namespace field, which defaults to the AuthorizationPolicy's.
package mesh.linkerd.authorizationpolicy_target_missing

import data.mesh.lib.k8s
import rego.v1

policy := k8s.subject

linkerd_group := "policy.linkerd.io"

gateway_group := "gateway.networking.k8s.io"

# The groups a reference of kind may name; an omitted group allows any of them.
default_groups := {
	"Server": {linkerd_group},
	"HTTPRoute": {linkerd_group, gateway_group},
	"GRPCRoute": {linkerd_group, gateway_group},
	"MeshTLSAuthentication": {linkerd_group},
	"NetworkAuthentication": {linkerd_group},
}

groups(ref) := {ref.group} if ref.group != ""

groups(ref) := default_groups[ref.kind] if object.get(ref, "group", "") == ""

exists(ns, ref) if {
	some group in groups(ref)
	k8s.get(ns, group, ref.kind, ref.name)
}

violation contains {"msg": msg} if {
	ref := policy.spec.targetRef
	default_groups[ref.kind]
	not ref.kind in {"MeshTLSAuthentication", "NetworkAuthentication"}
	not exists(k8s.namespace, ref)
	msg := sprintf("spec.targetRef: %s %q does not exist in namespace %q", [ref.kind, ref.name, k8s.namespace])
}

violation contains {"msg": msg} if {
	ref := policy.spec.targetRef
	ref.kind == "Namespace"
	ref.name != k8s.namespace
	msg := sprintf("spec.targetRef: Namespace %q is not the policy's own namespace %q, the only one it may target", [ref.name, k8s.namespace])
}

violation contains {"msg": msg} if {
	some i, ref in object.get(policy, ["spec", "requiredAuthenticationRefs"], [])
	ref.kind in {"MeshTLSAuthentication", "NetworkAuthentication"}
	ns := object.get(ref, "namespace", k8s.namespace)
	not exists(ns, ref)
	msg := sprintf("spec.requiredAuthenticationRefs[%d]: %s %q does not exist in namespace %q", [i, ref.kind, ref.name, ns])
}
