# METADATA
# title: Gateway servers share a certificate across different hosts
# description: |
#   Browsers reuse one HTTP/2 connection for every host the server's
#   certificate covers. Istio gives each HTTPS server its own filter chain
#   and routes, so when two servers on the same gateway workload and port
#   present the same certificate for different hosts, a request for one
#   host can arrive on the connection opened for the other server, and the
#   gateway answers 404. The finding is on the Gateway whose selector the
#   other's contains (it configures every pod the other one does), on both
#   when the selectors are the same, as istioctl reports it.
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

import data.mesh.lib.gateway
import data.mesh.lib.index
import data.mesh.lib.k8s
import rego.v1

subject_servers := gateway.servers(k8s.subject)

# Two Gateways configure the same pods when one selector is a subset of the
# other (Istio matches Gateway selectors against pods in every namespace);
# the subject is reported when its selector is the subset.
same_workload(subject, other) if k8s.labels_match(gateway.selector(subject), gateway.selector(other))

same_object(ns, name) if {
	ns == k8s.namespace
	name == k8s.subject.metadata.name
}

# [i, what, other]: server i of the subject presents a certificate that
# server other presents on the same listener and workload. The inventory
# index narrows the search to servers with the same certificate.
contenders contains [i, what, other] if {
	some i, server in subject_servers
	gateway.terminates(server)
	some certificate in gateway.certificates(server)
	key := concat(" ", [gateway.listener(server), certificate])
	some [ns, api_version, name, j] in object.get(index.gateway_certificates, key, set())
	not same_object(ns, name)
	gw := data.inventory.namespace[ns][api_version].Gateway[name]
	same_workload(k8s.subject, gw)
	other := gw.spec.servers[j]
	what := sprintf("Gateway %s/%s spec.servers[%d]", [ns, name, j])
}

contenders contains [i, what, other] if {
	some i, server in subject_servers
	some j, other in subject_servers
	i < j
	gateway.listener(server) == gateway.listener(other)
	what := sprintf("spec.servers[%d] of this Gateway", [j])
}

violation contains {"msg": msg} if {
	some [i, what, other] in contenders
	server := subject_servers[i]
	gateway.terminates(server)
	gateway.terminates(other)
	shared := gateway.certificates(server) & gateway.certificates(other)
	count(shared) > 0
	gateway.hosts(server) != gateway.hosts(other)
	msg := sprintf(
		"spec.servers[%d] (port %v, hosts %s) presents the same certificate (%s) as %s (hosts %s); clients reusing an HTTP/2 connection across these hosts get 404 from the gateway",
		[i, server.port.number, concat(", ", sort(gateway.hosts(server))), concat(", ", sort(shared)), what, concat(", ", sort(gateway.hosts(other)))],
	)
}
