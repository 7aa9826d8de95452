# METADATA
# title: Gateway servers conflict on the same workload and port
# description: |
#   Istio merges every Gateway that selects the same gateway workload into
#   one listener per port. It can merge plaintext HTTP servers, and TLS
#   servers with distinct hosts; anything else on one port is dropped: a
#   second TLS server (or httpsRedirect server) for a host already served
#   on that port, a TCP server next to another plaintext server, or a
#   plaintext server next to a TLS one. Which one survives depends on
#   creation order, so routes silently go missing.
# custom:
#   id: MESH1110
#   severity: error
#   enforcement: warn
#   kinds: [networking.istio.io/Gateway]
#   inventory: [networking.istio.io/Gateway]
#   aliases: [IST0145]
#   remediation: |
#     Serve each host once per port and workload: put the hosts in one
#     Gateway server, remove the duplicate, or move one Gateway to another
#     port, bind address or gateway workload. Keep plaintext and TLS servers
#     on different ports.
package mesh.istio.gateway_conflict

import data.mesh.lib.k8s
import rego.v1

# Protocols Istio merges on one plaintext port (protocol.IsHTTP).
http_protocols := {"HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB"}

servers(gw) := object.get(gw, ["spec", "servers"], [])

selector(gw) := s if {
	s := object.get(gw, ["spec", "selector"], {})
	s != null
} else := {}

protocol(server) := upper(object.get(server, ["port", "protocol"], ""))

has_tls(server) if object.get(server, "tls", null) != null

# Istio's TLS server: TLS settings on a port that is not plaintext HTTP (an
# HTTP server with tls.httpsRedirect stays a plaintext server).
tls_server(server) if {
	has_tls(server)
	not protocol(server) in http_protocols
}

plaintext(server) if not tls_server(server)

# Hosts as the listener sees them: "ns/host", "./host" and "*/host" serve host.
hosts(server) := {h |
	some raw in object.get(server, "hosts", [])
	h := substring(raw, indexof(raw, "/") + 1, -1)
}

# Servers share a listener when they listen on the same port and address.
listener(server) := [k8s.port_number(server.port.number), object.get(server, "bind", "")]

subject_selector := selector(k8s.subject)

subject_servers := servers(k8s.subject)

subject_listeners := {listener(s) | some s in subject_servers}

# Only plaintext HTTP servers merge with plaintext servers, and plaintext
# and TLS servers never share a port.
protocol_conflict(a, b) if {
	plaintext(a)
	plaintext(b)
	not protocol(a) in http_protocols
}

protocol_conflict(a, b) if {
	plaintext(a)
	plaintext(b)
	not protocol(b) in http_protocols
}

protocol_conflict(a, b) if {
	tls_server(a)
	plaintext(b)
}

protocol_conflict(a, b) if {
	plaintext(a)
	tls_server(b)
}

same_object(gw) if {
	gw.metadata.namespace == k8s.namespace
	gw.metadata.name == k8s.subject.metadata.name
}

# [i, what, other]: server i of the subject shares its listener with other,
# a server of a Gateway (in any namespace) with exactly the same selector.
# Cheap tests first: this runs for every Gateway of the cluster.
contenders contains [i, what, other] if {
	some gw in k8s.all_namespaced("networking.istio.io", "Gateway")
	selector(gw) == subject_selector
	not same_object(gw)
	some j, other in servers(gw)
	at := listener(other)
	at in subject_listeners
	some i, server in subject_servers
	listener(server) == at
	what := sprintf("Gateway %s/%s spec.servers[%d]", [gw.metadata.namespace, gw.metadata.name, j])
}

contenders contains [i, what, other] if {
	some i, server in subject_servers
	some j, other in subject_servers
	i < j
	listener(server) == listener(other)
	what := sprintf("spec.servers[%d] of this Gateway", [j])
}

describe(server) := sprintf("%s with TLS", [protocol(server)]) if tls_server(server)

describe(server) := sprintf("plaintext %s", [protocol(server)]) if plaintext(server)

workload := "any workload (empty selector)" if count(subject_selector) == 0

workload := sprintf("workload %s", [concat(",", sort([sprintf("%s=%s", [k, v]) | some k, v in subject_selector]))]) if {
	count(subject_selector) > 0
}

violation contains {"msg": msg} if {
	some [i, what, other] in contenders
	server := subject_servers[i]
	protocol_conflict(server, other)
	msg := sprintf(
		"spec.servers[%d] (port %v, %s) and %s (%s) share a listener on %s; Istio merges servers on one port only when all are plaintext HTTP or all use TLS, and drops the other",
		[i, server.port.number, describe(server), what, describe(other), workload],
	)
}

violation contains {"msg": msg} if {
	some [i, what, other] in contenders
	server := subject_servers[i]
	not protocol_conflict(server, other)
	has_tls(server)
	has_tls(other)
	shared := hosts(server) & hosts(other)
	count(shared) > 0
	msg := sprintf(
		"spec.servers[%d] (port %v) and %s both set tls for host(s) %s on %s; Istio serves a host once per port and drops one of the servers",
		[i, server.port.number, what, concat(", ", sort(shared)), workload],
	)
}
