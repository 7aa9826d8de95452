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

# The ports behind each distinct host of a destination without port.number,
# resolved once however many routes name it; only hosts with several ports.
portless_targets[host] := target if {
	some dest in traffic.subject_destinations
	object.get(dest, ["port", "number"], 0) == 0
	host := dest.host
	target := traffic.service_ports(traffic.fqdn(host, k8s.namespace))
	count(target.ports) > 1
}

violation contains {"msg": msg} if {
	some host, target in portless_targets
	not listener_port_exposed(target.ports)
	some d in traffic.destinations(k8s.subject)
	d.port == 0
	d.host == host
	msg := sprintf("%s: destination %q has no port.number but %s exposes ports %s", [d.path, d.host, target.what, traffic.format_ports(target.ports)])
}

# On sidecars a route serves the ports of the VirtualService's hosts. When
# the VirtualService is bound to sidecars only and the destination exposes
# every port of every host, the listener port is always one of its ports.
listener_port_exposed(ports) if {
	traffic.mesh_only(k8s.subject)
	count(traffic.hosts(k8s.subject)) > 0
	count(served_ports) == count(traffic.hosts(k8s.subject))
	every served in served_ports {
		count(served - ports) == 0
	}
}

# The ports each host of the VirtualService serves, resolved once; a host
# that resolves to nothing leaves the list shorter than the hosts.
served_ports := [served.ports |
	some host in traffic.hosts(k8s.subject)
	served := traffic.service_ports(traffic.fqdn(host, k8s.namespace))
]
