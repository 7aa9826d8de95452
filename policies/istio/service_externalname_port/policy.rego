# METADATA
# title: ExternalName Service port is unnamed or named for TCP
# description: |
#   Istio turns an ExternalName Service into a DNS-resolved service whose
#   protocol comes from the port name (or appProtocol). A port that is
#   unnamed, named for no protocol Istio knows, or named tcp is served as
#   opaque TCP to the external name: sidecars forward it only on the exact
#   port, and HTTP routing, retries and metrics do not apply to it. Not
#   checked where the inventory shows another mesh and not Istio, nor in
#   kube-system, kube-public, kube-node-lease and local-path-storage.
# custom:
#   id: MESH1209
#   severity: warning
#   enforcement: warn
#   kinds: [Service]
#   inventory: [Namespace]
#   requires:
#     fields: [spec.type]
#   aliases: [IST0150]
#   remediation: |
#     Name the port for the protocol it serves (https, http, tls, grpc) or
#     set spec.ports[].appProtocol; for TCP, use a ServiceEntry with
#     resolution DNS instead of an ExternalName Service.
package mesh.istio.service_externalname_port

import data.mesh.lib.istio
import data.mesh.lib.istio_config
import data.mesh.lib.k8s
import rego.v1

# Protocol names Istio serves as more than opaque TCP.
protocols := {"http", "http2", "https", "grpc", "grpc-web", "tls", "mongo", "mysql", "redis", "http_proxy"}

violation contains {"msg": msg} if {
	k8s.subject.spec.type == "ExternalName"
	some i, port in object.get(k8s.subject, ["spec", "ports"], [])
	upper(object.get(port, "protocol", "TCP")) == "TCP"
	not istio.has_app_protocol(port)
	name := object.get(port, "name", "")
	not istio.port_name_protocol(name) in protocols
	not k8s.namespace in istio.system_namespaces
	istio_config.applies(k8s.namespace)
	msg := sprintf("spec.ports[%d]%s (port %v) of an ExternalName Service is served as opaque TCP to %q: name the port for its protocol (https, http, tls, grpc) or set appProtocol", [i, shown(name), port.port, object.get(k8s.subject, ["spec", "externalName"], "")])
}

shown("") := " (unnamed)"

shown(name) := sprintf(".name %q", [name]) if name != ""
