# METADATA
# title: Service port name does not declare a protocol Istio knows
# description: |
#   Istio picks the protocol of a Service port from its appProtocol or, when
#   there is none, from the port name, which must be <protocol> or
#   <protocol>-<suffix> (http, http2, https, grpc, grpc-web, tcp, tls, mongo,
#   mysql, redis, udp). Any other name leaves the protocol to automatic
#   detection: HTTP features (routing, retries, metrics) may not apply, and
#   server-first protocols can stall. Every sidecar calling the Service uses
#   this, not only those of the Service's namespace, so Services are checked
#   in every namespace, as istioctl does, unless the inventory shows another
#   mesh (Linkerd) and not Istio (the istio-system namespace or anything in
#   it, or an istio.io resource or an injection label in the Service's
#   namespace). ExternalName Services are left to MESH1209. Not checked:
#   kube-system, kube-public,
#   kube-node-lease, local-path-storage, namespaces labelled
#   istio-injection=disabled, Istio's own Services (labelled istio or
#   release=istio), UDP and SCTP ports, and ports 25, 53, 3306 and 27017,
#   which Istio treats as TCP.
# custom:
#   id: MESH1203
#   severity: info
#   enforcement: audit
#   kinds: [Service]
#   inventory: [Namespace]
#   aliases: [IST0118, KIA0601]
#   remediation: |
#     Rename the port to <protocol>[-<suffix>], for example http-web or
#     grpc-api, or set spec.ports[].appProtocol (for example http, grpc or
#     kubernetes.io/h2c).
package mesh.istio.service_port_protocol

import data.mesh.lib.istio
import data.mesh.lib.istio_config
import data.mesh.lib.k8s
import rego.v1

# Port name prefixes Istio understands (pkg/config/protocol), grpc-web aside.
protocols := {"http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "mongo", "mysql", "redis", "udp", "http_proxy"}

# Ports Istio treats as TCP whatever their name.
well_known_ports := {25, 53, 3306, 27017}

istio_control_plane(svc) if svc.metadata.labels.istio
else if svc.metadata.labels.release == "istio"

namespace_labels := object.get(k8s.namespace_object(k8s.namespace), ["metadata", "labels"], {})

opted_out if namespace_labels["istio-injection"] == "disabled"

# Port names matter where Istio runs, or may run: not in a mesh of
# another kind.
istio_present if namespace_labels["istio-injection"] == "enabled"
else if namespace_labels["istio.io/rev"]
else if istio_config.applies(k8s.namespace)

checked if {
	object.get(k8s.subject, ["spec", "type"], "") != "ExternalName" # MESH1209
	istio_present
	not k8s.namespace in istio.system_namespaces
	not opted_out
	not istio_control_plane(k8s.subject)
}

# The port tests first: most ports are named for their protocol, and
# whether Istio runs here takes lookups.
violation contains {"msg": msg} if {
	some i, port in object.get(k8s.subject, ["spec", "ports"], [])
	upper(object.get(port, "protocol", "TCP")) == "TCP"
	not istio.has_app_protocol(port)
	not port.port in well_known_ports
	name := object.get(port, "name", "")
	not istio.port_name_protocol(name) in protocols
	checked
	msg := describe(i, port.port, name)
}

describe(i, number, "") := sprintf("spec.ports[%d] (port %v) has no name and no appProtocol: Istio cannot tell its protocol and falls back to protocol detection", [i, number])

describe(i, number, name) := sprintf("spec.ports[%d].name %q (port %v) does not start with a protocol Istio knows and the port has no appProtocol: Istio falls back to protocol detection", [i, name, number]) if name != ""
