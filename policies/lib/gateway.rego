# METADATA
# title: Istio Gateway helpers
# description: |
#   How Istio groups Gateway servers into listeners: by gateway workload
#   (selector), port and bind address, with plaintext HTTP, plaintext TCP
#   and TLS servers kept apart. Pure functions of a Gateway; the inventory
#   index uses them, so nothing here may read input.
#   Import with `import data.mesh.lib.gateway`.
package mesh.lib.gateway

import data.mesh.lib.k8s
import rego.v1

# Protocols Istio merges on one plaintext port (protocol.IsHTTP).
http_protocols := {"HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB"}

# TLS modes in which the gateway presents its own certificate.
terminating_modes := {"SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"}

servers(gw) := object.get(gw, ["spec", "servers"], [])

selector(gw) := s if {
	s := object.get(gw, ["spec", "selector"], {})
	s != null
} else := {}

# One string per distinct selector (object keys marshal sorted).
selector_key(gw) := json.marshal(selector(gw))

protocol(server) := upper(object.get(server, ["port", "protocol"], ""))

has_tls(server) if object.get(server, "tls", null) != null

# Istio's TLS server: TLS settings on a port that is not plaintext HTTP (an
# HTTP server with tls.httpsRedirect stays a plaintext server).
tls_server(server) if {
	has_tls(server)
	not protocol(server) in http_protocols
}

plaintext(server) if not tls_server(server)

# "tls", "http" (plaintext HTTP) or "tcp" (any other plaintext protocol).
class(server) := "tls" if tls_server(server)

class(server) := "http" if {
	plaintext(server)
	protocol(server) in http_protocols
}

class(server) := "tcp" if {
	plaintext(server)
	not protocol(server) in http_protocols
}

# Hosts as the listener sees them: "ns/host", "./host" and "*/host" serve host.
hosts(server) := {h |
	some raw in object.get(server, "hosts", [])
	h := substring(raw, indexof(raw, "/") + 1, -1)
}

# Servers share a listener when they listen on the same port and address.
listener(server) := sprintf("%v/%s", [k8s.port_number(server.port.number), object.get(server, "bind", "")])

# HTTPS servers that terminate TLS with a certificate of their own.
terminates(server) if {
	protocol(server) == "HTTPS"
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
