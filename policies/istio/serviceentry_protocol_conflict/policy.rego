# METADATA
# title: ServiceEntries give one host and port different protocols
# description: |
#   Istio builds one service per host and one listener configuration per
#   port: when ServiceEntries visible in the same namespace declare the
#   same host and port number with different protocols (HTTP and HTTPS,
#   TCP and HTTP), only one protocol wins and which one is undefined, so
#   traffic is proxied as the wrong protocol. ServiceEntries exported to
#   namespaces that never meet do not conflict.
# custom:
#   id: MESH1123
#   severity: error
#   enforcement: warn
#   kinds: [networking.istio.io/ServiceEntry]
#   inventory: [networking.istio.io/ServiceEntry]
#   aliases: [IST0177]
#   remediation: |
#     Declare each host and port once with one protocol: merge the
#     ServiceEntries, or fix the protocol of one of them.
package mesh.istio.serviceentry_protocol_conflict

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

scopes := traffic.export_scopes(k8s.subject, k8s.namespace)

protocol(port) := upper(object.get(port, "protocol", ""))

# Scopes meet when they share a namespace or one is every namespace.
meet(a, b) if count(a & b) > 0
else if "*" in a
else if "*" in b

violation contains {"msg": msg} if {
	some host in traffic.hosts(k8s.subject)
	some i, port in object.get(k8s.subject, ["spec", "ports"], [])
	others := {sprintf("%s/%s (%s)", [se.namespace, se.name, protocol(p)]) |
		some se in traffic.service_entries_for(traffic.fqdn(host, k8s.namespace))
		not [se.namespace, se.name] == [k8s.namespace, k8s.subject.metadata.name]
		some p in object.get(se.object, ["spec", "ports"], [])
		p.number == port.number
		protocol(p) != protocol(port)
		meet(scopes, traffic.export_scopes(se.object, se.namespace))
	}
	count(others) > 0
	msg := sprintf("spec.ports[%d]: host %s port %v is %s here and another protocol in ServiceEntry %s: Istio uses only one of them", [i, host, port.number, protocol(port), concat(", ", sort(others))])
}
