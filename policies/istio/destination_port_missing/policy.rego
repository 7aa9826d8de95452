# METADATA
# title: Destination of a multi-port service has no port
# description: |
#   A route destination without port.number takes the port of the listener
#   the request arrived on when the destination exposes several ports. On a
#   gateway (listener 80 or 443) or when routing to another service, that
#   port is usually not one the destination exposes and requests fail with
#   503 (no cluster). Routes of a sidecar-only VirtualService to a service
#   that exposes every port of the VirtualService's hosts are not flagged:
#   there the listener port always exists.
# custom:
#   id: MESH1106
#   severity: error
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService]
#   inventory: [Service, networking.istio.io/ServiceEntry]
#   aliases: [IST0112]
#   remediation: |
#     Set destination.port.number to the service port the route is meant
#     for, for example port: {number: 8080}.
package mesh.istio.destination_port_missing

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

violation contains {"msg": msg} if {
	vs := k8s.subject
	some d in traffic.destinations(vs)
	d.port == 0
	target := traffic.service_ports(traffic.fqdn(d.host, k8s.namespace))
	count(target.ports) > 1
	not listener_port_exposed(vs, target.ports)
	msg := sprintf("%s: destination %q has no port.number but %s exposes ports %s", [d.path, d.host, target.what, traffic.format_ports(target.ports)])
}

# On sidecars a route serves the ports of the VirtualService's hosts. When
# the VirtualService is bound to sidecars only and the destination exposes
# every port of every host, the listener port is always one of its ports.
listener_port_exposed(vs, ports) if {
	traffic.mesh_only(vs)
	count(traffic.hosts(vs)) > 0
	every host in traffic.hosts(vs) {
		served := traffic.service_ports(traffic.fqdn(host, k8s.namespace))
		count(served.ports - ports) == 0
	}
}
