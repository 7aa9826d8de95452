# METADATA
# title: VirtualService host has no Service or ServiceEntry
# description: |
#   A VirtualService routes requests for a host. When no Kubernetes Service
#   and no ServiceEntry defines that host, the mesh does not know where it
#   lives and the route never applies to the traffic it was written for.
# custom:
#   id: MESH1101
#   severity: error
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService]
#   inventory: [Service, networking.istio.io/ServiceEntry]
#   aliases: [IST0101, KIA1101]
#   remediation: |
#     Create the Service, add a ServiceEntry for an external host, or fix the
#     host name: a short name is resolved in the VirtualService's namespace.
package mesh.istio.virtualservice_host

import data.mesh.lib.istio
import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

# Hosts of a VirtualService bound to gateways are often external names the
# gateway serves; only mesh-internal routing must name a known host.
bound_to_mesh(vs) if not vs.spec.gateways
else if "mesh" in vs.spec.gateways

violation contains {"msg": msg} if {
	vs := k8s.subject
	bound_to_mesh(vs)
	some host in vs.spec.hosts
	not istio.known_host(host, k8s.namespace)
	msg := sprintf("host %q matches no Service or ServiceEntry (resolved as %q)", [host, istio.fqdn(host, k8s.namespace)])
}

# Each distinct destination host is looked up once, however many routes
# name it (traffic.subject_destinations, shared with the other policies of
# the review, has mirrors too: the violation reports route destinations
# only); paths are built only for the hosts reported.
unknown_destination_hosts contains host if {
	some host in {dest.host | some dest in traffic.subject_destinations}
	not istio.known_host(host, k8s.namespace)
}

violation contains {"msg": msg} if {
	count(unknown_destination_hosts) > 0
	some kind in ["http", "tls", "tcp"]
	some i, route in object.get(k8s.subject, ["spec", kind], [])
	some j, dest in object.get(route, "route", [])
	dest.destination.host in unknown_destination_hosts
	msg := sprintf("spec.%s[%d].route[%d]: destination host %q matches no Service or ServiceEntry", [kind, i, j, dest.destination.host])
}
