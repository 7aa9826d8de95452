# METADATA
# title: Gateway server port is not on the gateway's Service
# description: |
#   A Gateway server's port.number is the port the gateway proxy listens on.
#   Clients reach the proxy through the Kubernetes Services that select its
#   pods: when no such Service has the port as a port or a targetPort,
#   nothing outside the pod can send traffic to the server. Gateways whose
#   selector matches no workload (MESH1104), or whose workloads no Service
#   in the inventory selects, are not judged; the default ingress gateway is
#   assumed to expose ports 80, 443, 15021, 31400 and 15443, with 8080 and
#   8443 as targetPorts, as Istio installs do.
# custom:
#   id: MESH1119
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/Gateway]
#   inventory: [Service, Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob]
#   needs: [Pod|apps/Deployment|apps/StatefulSet|apps/DaemonSet|apps/ReplicaSet|batch/Job|batch/CronJob]
#   aliases: [IST0162]
#   remediation: |
#     Add the port to the gateway's Service (port, or targetPort behind
#     another port), or use a server port the Service exposes.
package mesh.istio.gateway_service_port

import data.mesh.lib.gateway
import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

selector := gateway.selector(k8s.subject)

# The label sets of the workloads the Gateway selects, by namespace.
selected[ns] := sets if {
	some ns in traffic.gateway_namespaces(selector)
	sets := traffic.selected_label_sets(ns, selector)
}

# The ports of the Services that select those workloads: port and
# targetPort (a number) of every TCP port, with the Services' names.
services contains [ns, svc] if {
	some ns, sets in selected
	some svc in k8s.namespaced(ns, "", "Service")
	svc_selector := object.get(svc, ["spec", "selector"], {})
	count(svc_selector) > 0
	some l in sets
	k8s.labels_match(svc_selector, l)
}

exposed contains p if {
	some [_, svc] in services
	some port in object.get(svc, ["spec", "ports"], [])
	upper(object.get(port, "protocol", "TCP")) == "TCP"
	some p in {port.port} | {n | n := k8s.port_number(object.get(port, "targetPort", port.port))}
}

# The default ingress gateway, assumed when no workload carries its labels.
exposed contains p if {
	count(services) == 0
	traffic.gateway_namespaces(selector) == {traffic.default_ingress_namespace}
	count(selected[traffic.default_ingress_namespace]) == 0
	some port, target in traffic.default_ingress_ports
	some p in {port, target}
}

names := concat(", ", sort({sprintf("%s/%s", [ns, svc.metadata.name]) | some [ns, svc] in services})) if count(services) > 0
else := sprintf("%s/istio-ingressgateway (assumed)", [traffic.default_ingress_namespace])

violation contains {"msg": msg} if {
	count(exposed) > 0
	some i, server in gateway.servers(k8s.subject)
	port := k8s.port_number(server.port.number)
	not port in exposed
	msg := sprintf("spec.servers[%d].port.number %v is not a port or targetPort of the Services selecting the gateway's pods (%s: %s)", [i, port, names, traffic.format_ports(exposed)])
}
