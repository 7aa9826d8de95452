# METADATA
# title: Linkerd HTTPRoute parent does not exist
# description: |
#   A policy.linkerd.io HTTPRoute attaches to its parentRefs: a Service
#   (group core or empty, kind Service) for outbound routing, timeouts and
#   retries, or a Server (group policy.linkerd.io) for inbound authorization
#   by route. A parent resolves in the parentRef's namespace, which defaults
#   to the route's. When the parent does not exist, or a Service parent has
#   no port with the parentRef's port number, the route attaches to nothing
#   and none of its rules apply. Parents of other kinds (a Gateway) are not
#   checked here.
# custom:
#   id: MESH2004
#   severity: error
#   enforcement: warn
#   kinds: [policy.linkerd.io/HTTPRoute]
#   inventory: [Service, policy.linkerd.io/Server]
#   remediation: |
#     Fix the parentRef's name, namespace or port, or create the Service or
#     Server it names. A Service parentRef's port is the Service's port, not
#     the container's target port.
package mesh.linkerd.httproute_parent_missing

import data.mesh.lib.k8s
import rego.v1

route := k8s.subject

# Linkerd compares kinds case-insensitively and reads an omitted group of a
# Service parent as the core group.
is_service(ref) if {
	lower(ref.kind) == "service"
	lower(object.get(ref, "group", "")) in {"", "core"}
}

is_server(ref) if {
	lower(ref.kind) == "server"
	object.get(ref, "group", "") == "policy.linkerd.io"
}

parents contains [i, ref, ns] if {
	some i, ref in object.get(route, ["spec", "parentRefs"], [])
	ns := object.get(ref, "namespace", k8s.namespace)
}

violation contains {"msg": msg} if {
	some [i, ref, ns] in parents
	is_service(ref)
	not k8s.service(ns, ref.name)
	msg := sprintf("spec.parentRefs[%d]: Service %q does not exist in namespace %q", [i, ref.name, ns])
}

violation contains {"msg": msg} if {
	some [i, ref, ns] in parents
	is_service(ref)
	port := ref.port
	svc := k8s.service(ns, ref.name)
	not port in {p.port | some p in object.get(svc, ["spec", "ports"], [])}
	msg := sprintf("spec.parentRefs[%d]: Service %q in namespace %q has no port %v", [i, ref.name, ns, port])
}

violation contains {"msg": msg} if {
	some [i, ref, ns] in parents
	is_server(ref)
	not k8s.get(ns, "policy.linkerd.io", "Server", ref.name)
	msg := sprintf("spec.parentRefs[%d]: Server %q does not exist in namespace %q", [i, ref.name, ns])
}
