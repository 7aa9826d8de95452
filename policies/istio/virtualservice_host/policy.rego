# METADATA
# title: VirtualService host has no Service or ServiceEntry
# description: |
#   A VirtualService routes requests for a host. When no Kubernetes Service
#   and no ServiceEntry defines that host, the mesh does not know where it
#   lives and the route never applies to the traffic it was written for.
#   Route and mirror destinations are looked up as istiod scopes them: a
#   Service (networking.istio.io/exportTo annotation) or ServiceEntry
#   (spec.exportTo) counts only when it is exported to every namespace or
#   to one the VirtualService applies in (its own, or its spec.exportTo).
#   A destination port must be one the Service or ServiceEntry exposes.
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

# Where the VirtualService looks hosts up: every namespace, and its own or
# those of its spec.exportTo.
scopes := traffic.lookup_scopes(k8s.subject, k8s.namespace)

violation contains {"msg": msg} if {
	vs := k8s.subject
	bound_to_mesh(vs)
	some host in vs.spec.hosts
	not traffic.visible_host(host, k8s.namespace, scopes)
	msg := sprintf("host %q matches no Service or ServiceEntry (resolved as %q)", [host, istio.fqdn(host, k8s.namespace)])
}

# Each distinct destination host is looked up once, however many routes
# name it (traffic.subject_destinations, shared with the other policies of
# the review, has mirrors too); paths are built only for the hosts reported.
unknown_destination_hosts contains host if {
	some host in {dest.host | some dest in traffic.subject_destinations}
	not traffic.visible_host(host, k8s.namespace, scopes)
}

violation contains {"msg": msg} if {
	count(unknown_destination_hosts) > 0
	some kind in ["http", "tls", "tcp"]
	some i, route in object.get(k8s.subject, ["spec", kind], [])
	some j, dest in object.get(route, "route", [])
	dest.destination.host in unknown_destination_hosts
	msg := sprintf("spec.%s[%d].route[%d]: destination host %q matches no Service or ServiceEntry%s", [kind, i, j, dest.destination.host, export_note])
}

violation contains {"msg": msg} if {
	count(unknown_destination_hosts) > 0
	some d in traffic.mirror_destinations(k8s.subject)
	d.host in unknown_destination_hosts
	msg := sprintf("%s: mirror host %q matches no Service or ServiceEntry%s", [d.path, d.host, export_note])
}

# What the scopes were, when they are not the VirtualService's own namespace.
export_note := "" if count(traffic.export_to(k8s.subject)) == 0
else := "" if count(scopes - {"*"}) == 0 # exportTo: ["*"]
else := sprintf(" exported to the namespaces the VirtualService is exported to (%s)", [concat(", ", sort(scopes - {"*"}))])

# A route destination without a host sends to nowhere. The distinct route
# lists are looked at first: most have every host.
hostless if {
	some routes in traffic.route_lists
	some r in routes
	object.get(r, ["destination", "host"], "") == ""
}

violation contains {"msg": msg} if {
	hostless
	some kind in ["http", "tls", "tcp"]
	some i, route in object.get(k8s.subject, ["spec", kind], [])
	some j, dest in object.get(route, "route", [])
	object.get(dest, ["destination", "host"], "") == ""
	msg := sprintf("spec.%s[%d].route[%d]: the destination has no host", [kind, i, j])
}

# Destinations with a port: the port must be one the host's Service or
# ServiceEntries expose. Each distinct host and port is resolved once.
# ServiceEntries are walked only for hosts no Service defines, and what
# defines the host is described only for the ports reported.
wrong_ports contains [host, port] if {
	some dest in traffic.subject_destinations
	port := object.get(dest, ["port", "number"], 0)
	port != 0
	host := dest.host
	not host in unknown_destination_hosts
	ports := exposed_ports(traffic.fqdn(host, k8s.namespace))
	count(ports) > 0
	not port in ports
}

exposed_ports(name) := {p.port | some p in object.get(svc, ["spec", "ports"], [])} if {
	[svc_name, svc_ns] := traffic.kube_name(name)
	svc := data.inventory.namespace[svc_ns].v1.Service[svc_name]
} else := {p.number | some se in traffic.service_entries_for(name); some p in object.get(se.object, ["spec", "ports"], [])}

violation contains {"msg": msg} if {
	count(wrong_ports) > 0
	some d in traffic.destinations(k8s.subject)
	[d.host, d.port] in wrong_ports
	target := traffic.service_ports(traffic.fqdn(d.host, k8s.namespace))
	msg := sprintf("%s: port %v of host %q is not a port of %s (%s)", [d.path, d.port, d.host, target.what, traffic.format_ports(target.ports)])
}
