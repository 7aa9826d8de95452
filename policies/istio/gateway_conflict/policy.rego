# METADATA
# title: Gateway servers conflict on the same workload and port
# description: |
#   Istio merges every Gateway that selects the same gateway workload into
#   one listener per port. It can merge plaintext HTTP servers, and TLS
#   servers with distinct hosts; anything else on one port is dropped: a
#   second TLS server (or httpsRedirect server) for a host already served
#   on that port, a TCP server next to another plaintext server, or a
#   plaintext server next to a TLS one. Which one survives depends on
#   creation order, so routes silently go missing. Gateways conflict when
#   their selectors are the same or one contains the other (every workload
#   the narrower one selects runs both).
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

import data.mesh.lib.gateway
import data.mesh.lib.index
import data.mesh.lib.k8s
import rego.v1

subject_servers := gateway.servers(k8s.subject)

subject_selector := gateway.selector(k8s.subject)

subject_selector_key := gateway.selector_key(k8s.subject)

# The selectors of the Gateways that share workloads with this one: its
# own, and those that contain it or that it contains. Read from the keys of
# the listener index, one per selector, listener and class.
selector_keys contains subject_selector_key

selector_keys contains key if {
	some key in {substring(k, 0, indexof(k, " ")) | some k, _ in index.gateway_listeners}
	key != subject_selector_key
	nested(subject_selector, json.unmarshal(key))
}

nested(a, b) if k8s.labels_match(a, b)
else if k8s.labels_match(b, a)

# Only plaintext HTTP servers merge with plaintext servers, and plaintext
# and TLS servers never share a port.
clashing_classes := {"tls": {"http", "tcp"}, "http": {"tcp", "tls"}, "tcp": {"http", "tcp", "tls"}}

protocol_conflict(a, b) if gateway.class(b) in clashing_classes[gateway.class(a)]

same_object(ns, name) if {
	ns == k8s.namespace
	name == k8s.subject.metadata.name
}

other_server(ns, api_version, name, j) := data.inventory.namespace[ns][api_version].Gateway[name].spec.servers[j]

describe_other(ns, name, j) := sprintf("Gateway %s/%s spec.servers[%d]", [ns, name, j])

# [i, what, other]: server i of the subject shares its listener with other,
# a server of a Gateway (in any namespace) whose selector shares workloads.
# The inventory index finds only the servers that can conflict: those of a
# clashing class on the listener, and TLS servers for the same host.
contenders contains [i, describe_other(ns, name, j), other] if {
	some i, server in subject_servers
	some class in clashing_classes[gateway.class(server)]
	some selector_key in selector_keys
	key := concat(" ", [selector_key, gateway.listener(server), class])
	some [ns, api_version, name, j] in object.get(index.gateway_listeners, key, set())
	not same_object(ns, name)
	other := other_server(ns, api_version, name, j)
}

contenders contains [i, describe_other(ns, name, j), other] if {
	some i, server in subject_servers
	gateway.has_tls(server)
	some host in gateway.hosts(server)
	some selector_key in selector_keys
	key := concat(" ", [selector_key, gateway.listener(server), host])
	some [ns, api_version, name, j] in object.get(index.gateway_tls_hosts, key, set())
	not same_object(ns, name)
	other := other_server(ns, api_version, name, j)
}

contenders contains [i, what, other] if {
	some i, server in subject_servers
	some j, other in subject_servers
	i < j
	gateway.listener(server) == gateway.listener(other)
	what := sprintf("spec.servers[%d] of this Gateway", [j])
}

describe(server) := sprintf("%s with TLS", [gateway.protocol(server)]) if gateway.tls_server(server)

describe(server) := sprintf("plaintext %s", [gateway.protocol(server)]) if gateway.plaintext(server)

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
	gateway.has_tls(server)
	gateway.has_tls(other)
	shared := gateway.hosts(server) & gateway.hosts(other)
	count(shared) > 0
	msg := sprintf(
		"spec.servers[%d] (port %v) and %s both set tls for host(s) %s on %s; Istio serves a host once per port and drops one of the servers",
		[i, server.port.number, what, concat(", ", sort(shared)), workload],
	)
}
