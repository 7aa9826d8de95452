# METADATA
# title: Mesh HTTPRoute backend port is not a port of the Service
# description: |
#   A backendRef to a Service must name one of the Service's ports (spec.ports[].port,
#   not the targetPort); Gateway API requires the port for Service backends.
#   A missing or unknown port leaves the backend unresolved, and the traffic
#   meant for it gets an error response.
# custom:
#   id: MESH4002
#   severity: error
#   enforcement: warn
#   kinds: [gateway.networking.k8s.io/HTTPRoute]
#   inventory: [Service]
#   remediation: |
#     Set spec.rules[].backendRefs[].port to one of the Service's spec.ports[].port
#     values (the Service port, not the container's targetPort).
package mesh.gamma.httproute_backend_port

import data.mesh.lib.k8s
import data.mesh.lib.routes
import rego.v1

service_backends contains [b, svc] if {
	route := k8s.subject
	routes.mesh_route(route)
	some b in routes.backend_refs(route, k8s.namespace)
	routes.service_backend(b)
	svc := k8s.service(b.namespace, b.name)
}

service_ports(svc) := {p.port | some p in object.get(svc, ["spec", "ports"], [])}

violation contains {"msg": msg} if {
	some [b, _] in service_backends
	b.port == null
	msg := sprintf("%s: backend Service %q has no port; Gateway API requires one for Service backends", [b.path, b.name])
}

# ExternalName Services have no ports to match against.
violation contains {"msg": msg} if {
	some [b, svc] in service_backends
	b.port != null
	object.get(svc, ["spec", "type"], "ClusterIP") != "ExternalName"
	ports := service_ports(svc)
	not b.port in ports
	msg := sprintf("%s: port %v is not a port of Service %q (it has %v)", [b.path, b.port, b.name, sort(ports)])
}
