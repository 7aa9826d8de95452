# METADATA
# title: Services of a meshed Deployment disagree on its ports
# description: |
#   The sidecar configures one inbound listener per pod port. When the
#   Services selecting a Deployment's pods use one port number with
#   different protocols (TCP and UDP), or send several service ports to one
#   targetPort (so one pod port gets several protocols or configurations),
#   Istio picks one and the other Service's traffic is handled wrongly.
#   Judged for Deployments in the mesh: a pod template with istio-proxy or
#   sidecar.istio.io/inject=true, or in a namespace labelled
#   istio-injection=enabled or istio.io/rev.
# custom:
#   id: MESH1220
#   severity: warning
#   enforcement: warn
#   kinds: [apps/Deployment]
#   inventory: [Service, Namespace]
#   aliases: [IST0116, IST0137]
#   remediation: |
#     Give each pod port one Service port and one protocol: remove the
#     duplicate Service or port, or point it at another targetPort.
package mesh.istio.deployment_service_ports

import data.mesh.lib.index
import data.mesh.lib.k8s
import rego.v1

template := object.get(k8s.subject, ["spec", "template"], {})

template_labels := object.get(template, ["metadata", "labels"], {})

inject_setting := v if v := template_labels["sidecar.istio.io/inject"]
else := v if v := template.metadata.annotations["sidecar.istio.io/inject"]

namespace_labels := object.get(k8s.namespace_object(k8s.namespace), ["metadata", "labels"], {})

in_mesh if {
	some c in object.get(template, ["spec", "containers"], [])
	c.name == "istio-proxy"
} else if inject_setting == "true"
else if {
	not inject_setting
	namespace_labels["istio-injection"] == "enabled"
} else if {
	not inject_setting
	not namespace_labels["istio-injection"]
	namespace_labels["istio.io/rev"]
}

# The Services selecting the pods: the index names those whose selector
# holds one of the pods' labels, instead of a walk over the namespace.
services contains svc if {
	in_mesh
	some k, v in template_labels
	some name in index.services_by_selector_label[concat("", [k8s.namespace, " ", k, "=", v])]
	svc := data.inventory.namespace[k8s.namespace].v1.Service[name]
	object.subset(template_labels, svc.spec.selector)
}

# Ports can disagree only among two Services, or two ports of one: most
# pods have one Service with one port, and the tables below cost a
# sprintf a port.
several_ports if count(services) > 1
else if {
	some svc in services
	count(object.get(svc, ["spec", "ports"], [])) > 1
}

# [service, port, protocol, targetPort] of every port of those Services.
ports contains [svc.metadata.name, p.port, upper(object.get(p, "protocol", "TCP")), sprintf("%v", [object.get(p, "targetPort", p.port)])] if {
	some svc in services
	some p in object.get(svc, ["spec", "ports"], [])
}

violation contains {"msg": msg} if {
	several_ports
	some number in {n | some [_, n, _, _] in ports}
	protocols := {proto | some [_, n, proto, _] in ports; n == number}
	count(protocols) > 1
	names := {name | some [name, n, _, _] in ports; n == number}
	msg := sprintf("port %v has protocols %s in Services %s, which select these pods: the sidecar uses one of them", [number, concat(", ", sort(protocols)), concat(", ", sort(names))])
}

violation contains {"msg": msg} if {
	several_ports
	some target in {t | some [_, _, _, t] in ports}
	numbers := {n | some [_, n, _, t] in ports; t == target}
	count(numbers) > 1
	names := {name | some [name, _, _, t] in ports; t == target}
	msg := sprintf("targetPort %s is behind service ports %s (Services %s): the sidecar configures the pod port for one of them", [target, concat(", ", [sprintf("%v", [n]) | some n in sort(numbers)]), concat(", ", sort(names))])
}
