# METADATA
# title: ServiceEntry for TCP has no addresses
# description: |
#   Sidecars route plain TCP by destination address and port only. A
#   ServiceEntry without spec.addresses whose ports are TCP (or have no
#   protocol) gives them no address to match: its TCP traffic goes to
#   whatever else listens on the port (often the passthrough cluster), not
#   to the ServiceEntry. Not reported when istiod allocated addresses (in
#   status.addresses), or when the MeshConfig turns on DNS capture with
#   automatic address allocation (ISTIO_META_DNS_CAPTURE and
#   ISTIO_META_DNS_AUTO_ALLOCATE or PILOT_ENABLE_IP_AUTOALLOCATE in
#   defaultConfig.proxyMetadata of the istio ConfigMap, or a file given to
#   check --mesh-config).
# custom:
#   id: MESH1122
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/ServiceEntry]
#   inventory: [ConfigMap]
#   aliases: [IST0134]
#   remediation: |
#     Add spec.addresses (a VIP or CIDR for the external service), name the
#     port for an application protocol (http, tls) so it is routed by host,
#     or enable DNS proxying with automatic address allocation.
package mesh.istio.serviceentry_addresses

import data.mesh.lib.istio_config
import data.mesh.lib.k8s
import rego.v1

no_addresses if count(object.get(k8s.subject, ["spec", "addresses"], [])) == 0

allocated if count(object.get(k8s.subject, ["status", "addresses"], [])) > 0

auto_allocated if {
	istio_config.proxy_metadata.ISTIO_META_DNS_CAPTURE == "true"
	some key in ["ISTIO_META_DNS_AUTO_ALLOCATE", "PILOT_ENABLE_IP_AUTOALLOCATE"]
	istio_config.proxy_metadata[key] == "true"
}

violation contains {"msg": msg} if {
	no_addresses
	some i, port in object.get(k8s.subject, ["spec", "ports"], [])
	upper(object.get(port, "protocol", "")) in {"", "TCP"}
	not allocated
	not auto_allocated
	msg := sprintf("spec.ports[%d] (%v, %s) is TCP and the ServiceEntry has no spec.addresses: sidecars cannot tell its traffic from other TCP traffic on port %v", [i, port.number, object.get(port, "protocol", "no protocol"), port.number])
}
