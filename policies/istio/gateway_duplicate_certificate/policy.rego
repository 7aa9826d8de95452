# METADATA
# title: Gateway servers share a certificate across different hosts
# description: |
#   Browsers reuse one HTTP/2 connection for every host the server's
#   certificate covers. Istio gives each HTTPS server its own filter chain
#   and routes, so when two servers on the same gateway workload and port
#   present the same certificate for different hosts, a request for one
#   host can arrive on the connection opened for the other server, and the
#   gateway answers 404.
# custom:
#   id: MESH1111
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/Gateway]
#   inventory: [networking.istio.io/Gateway]
#   aliases: [IST0138]
#   remediation: |
#     Put all the hosts that share a certificate in one server of one
#     Gateway (VirtualServices in other namespaces can still bind to it), or
#     give each server its own certificate covering only its hosts.
package mesh.istio.gateway_duplicate_certificate

import data.mesh.lib.k8s
import rego.v1

# TLS modes in which the gateway presents its own certificate.
terminating_modes := {"SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"}

servers(gw) := object.get(gw, ["spec", "servers"], [])

selector(gw) := s if {
	s := object.get(gw, ["spec", "selector"], {})
	s != null
} else := {}

# Two Gateways configure the same pods when one selector is a subset of the
# other (Istio matches Gateway selectors against pods in every namespace).
same_workload(a, b) if k8s.labels_match(selector(a), selector(b))

same_workload(a, b) if k8s.labels_match(selector(b), selector(a))

# HTTPS servers that terminate TLS with a certificate of their own.
terminates(server) if {
	upper(object.get(server, ["port", "protocol"], "")) == "HTTPS"
	upper(object.get(server, ["tls", "mode"], "")) in terminating_modes
}

credential_names(server) := {n |
	some n in array.concat([object.get(server, ["tls", "credentialName"], "")], object.get(server, ["tls", "credentialNames"], []))
	is_string(n)
	n != ""
}

# The certificates a server presents, as printable identities.
certificates(server) := {sprintf("credentialName %q", [n]) | some n in credential_names(server)} if {
	count(credential_names(server)) > 0
}

certificates(server) := {sprintf("serverCertificate %q", [path])} if {
	count(credential_names(server)) == 0
	path := object.get(server, ["tls", "serverCertificate"], "")
	is_string(path)
	path != ""
}

# Hosts as the listener sees them: "ns/host" serves host.
hosts(server) := {h |
	some raw in object.get(server, "hosts", [])
	h := substring(raw, indexof(raw, "/") + 1, -1)
}

# Connections are only reused on the same address and port.
same_listener(a, b) if {
	k8s.port_number(a.port.number) == k8s.port_number(b.port.number)
	object.get(a, "bind", "") == object.get(b, "bind", "")
}

other_gateways contains gw if {
	some gw in k8s.all_namespaced("networking.istio.io", "Gateway")
	same_workload(gw, k8s.subject)
	not same_object(gw)
}

same_object(gw) if {
	gw.metadata.namespace == k8s.namespace
	gw.metadata.name == k8s.subject.metadata.name
}

# [i, what, other]: server i of the subject shares its listener with other.
contenders contains [i, what, other] if {
	some i, server in servers(k8s.subject)
	some gw in other_gateways
	some j, other in servers(gw)
	same_listener(server, other)
	what := sprintf("Gateway %s/%s spec.servers[%d]", [gw.metadata.namespace, gw.metadata.name, j])
}

contenders contains [i, what, other] if {
	some i, server in servers(k8s.subject)
	some j, other in servers(k8s.subject)
	i < j
	same_listener(server, other)
	what := sprintf("spec.servers[%d] of this Gateway", [j])
}

violation contains {"msg": msg} if {
	some [i, what, other] in contenders
	server := servers(k8s.subject)[i]
	terminates(server)
	terminates(other)
	shared := certificates(server) & certificates(other)
	count(shared) > 0
	hosts(server) != hosts(other)
	msg := sprintf(
		"spec.servers[%d] (port %v, hosts %s) presents the same certificate (%s) as %s (hosts %s); clients reusing an HTTP/2 connection across these hosts get 404 from the gateway",
		[i, server.port.number, concat(", ", sort(hosts(server))), concat(", ", sort(shared)), what, concat(", ", sort(hosts(other)))],
	)
}
