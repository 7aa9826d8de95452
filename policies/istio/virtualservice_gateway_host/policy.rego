# METADATA
# title: VirtualService host is served by no server of its Gateway
# description: |
#   A gateway proxy routes a request by the VirtualServices bound to it
#   whose hosts match the host the request was received for on one of the
#   Gateway's servers. When none of the VirtualService's hosts matches a
#   host of any server of a Gateway in spec.gateways (servers' hosts
#   written "ns/host" count only for a VirtualService in ns, "./host" for
#   one in the Gateway's namespace), that gateway never uses the
#   VirtualService. A Gateway that does not exist serves nothing either
#   (MESH1103 says it is missing).
# custom:
#   id: MESH1116
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService]
#   inventory: [networking.istio.io/Gateway]
#   requires:
#     fields: [spec.gateways]
#   aliases: [IST0132]
#   remediation: |
#     Add the host to a server of the Gateway (hosts: ["<namespace>/<host>"]),
#     or list in the VirtualService's spec.hosts a host the Gateway serves.
package mesh.istio.virtualservice_gateway_host

import data.mesh.lib.gateway
import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

vs_hosts := traffic.hosts(k8s.subject)

violation contains {"msg": msg} if {
	count(vs_hosts) > 0
	some i, ref in traffic.gateways(k8s.subject)
	ref != "mesh"
	not traffic.internal_gateway(ref) # MESH1117
	gw := traffic.gateway_ref(ref, k8s.namespace)
	served := served_hosts(gw)
	not any_match(served)
	msg := sprintf("spec.gateways[%d]: Gateway %s/%s serves none of the hosts %s (its servers serve %s to namespace %s)", [
		i, gw.namespace, gw.name, concat(", ", vs_hosts), shown(served), k8s.namespace,
	])
}

# The hosts the Gateway's servers serve to VirtualServices of this
# namespace: "host" and "*/host" to every namespace, "ns/host" to ns only,
# "./host" to the Gateway's namespace. Empty when the Gateway does not
# exist: then it serves none, and istioctl reports both (IST0101, IST0132).
served_hosts(gw) := {h |
	obj := k8s.get(gw.namespace, "networking.istio.io", "Gateway", gw.name)
	some server in gateway.servers(obj)
	some raw in object.get(server, "hosts", [])
	h := visible(raw, gw.namespace)
}

visible(raw, gw_ns) := raw if not contains(raw, "/")
else := substring(raw, i + 1, -1) if {
	i := indexof(raw, "/")
	substring(raw, 0, i) in {"*", k8s.namespace}
} else := substring(raw, 2, -1) if {
	startswith(raw, "./")
	gw_ns == k8s.namespace
}

any_match(served) if {
	some host in vs_hosts
	some pattern in served
	traffic.hosts_overlap(pattern, host)
}

shown(served) := "no host" if count(served) == 0
else := concat(", ", sort(served))
