# METADATA
# title: Service and its workloads disagree on Linkerd opaque ports
# description: |
#   Linkerd skips protocol detection on opaque ports, which protocols where
#   the server speaks first (MySQL, SMTP, NATS...) need. The
#   config.linkerd.io/opaque-ports annotation must be set both on the
#   Service, which tells meshed clients, and on the workload's pods (or their
#   namespace), which tells the server's proxy; when they disagree, one side
#   still waits up to 10 seconds for protocol detection. The rule: for a
#   Service with a selector, its opaque set is its own annotation, else its
#   namespace's, else Linkerd's default list (25, 587, 3306, 4444, 5432,
#   6379, 9300, 11211), in Service port numbers; a port with appProtocol
#   linkerd.io/opaque or linkerd.io/tcp is opaque too. For each workload it
#   selects in its namespace (pod templates and Pods no other object
#   controls), the opaque set is the pod template's annotation, else the
#   namespace's, in container port numbers, names resolved against the
#   containers' ports; a workload with neither is not checked, since the
#   injector derives its list from the cluster's configuration. A TCP
#   Service port conflicts when the Service's annotation marks it opaque and
#   its target port is not opaque on the workload, or when the target port
#   is opaque on the workload and the Service marks the port opaque neither
#   by annotation nor by appProtocol. An annotation that cannot be parsed is
#   not compared.
# custom:
#   id: MESH2008
#   severity: warning
#   enforcement: warn
#   kinds: [Service]
#   inventory: [Namespace, Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob]
#   remediation: |
#     List the same ports in config.linkerd.io/opaque-ports on the Service
#     (Service ports) and on the workload's pod template (container ports),
#     or set the annotation once on the namespace and remove it from both.
#     For a ClusterIP Service, appProtocol: linkerd.io/opaque on the port can
#     replace the Service annotation.
package mesh.linkerd.opaque_ports_conflict

import data.mesh.lib.index
import data.mesh.lib.k8s
import data.mesh.lib.linkerd
import rego.v1

svc := k8s.subject

ns_value := k8s.namespace_object(k8s.namespace).metadata.annotations[linkerd.opaque_ports_annotation]

# Where the Service's opaque ports come from, as {"value", "desc"}.
service_source := {"value": v, "desc": sprintf("its %s %q", [linkerd.opaque_ports_annotation, v])} if {
	v := svc.metadata.annotations[linkerd.opaque_ports_annotation]
}

service_source := {"value": ns_value, "desc": sprintf("namespace %q's %s %q", [k8s.namespace, linkerd.opaque_ports_annotation, ns_value])} if {
	not svc.metadata.annotations[linkerd.opaque_ports_annotation]
}

service_source := {"value": linkerd.default_opaque_ports, "desc": "Linkerd's default opaque ports"} if {
	not svc.metadata.annotations[linkerd.opaque_ports_annotation]
	not ns_value
}

service_ranges := linkerd.port_ranges(service_source.value, {})

opaque_app_protocols := {"linkerd.io/opaque", "linkerd.io/tcp"}

# Cheapest test first: a conflict needs opaque ports on the workloads'
# side, from their namespace or from a pod template the Service may
# select (found by one label of its selector, as selected_pod_sources
# finds them).
workload_side_set if ns_value

workload_side_set if {
	[k, v] := linkerd.first_label(svc.spec.selector)
	some [api_version, kind, name] in object.get(index.pod_sources_by_label, [k8s.namespace, concat("=", [k, v])], set())
	linkerd.pod_template(data.inventory.namespace[k8s.namespace][api_version][kind][name]).annotations[linkerd.opaque_ports_annotation]
}

# Workloads the Service selects, each with where its opaque ports come from.
selected contains [s, src] if {
	workload_side_set
	selector := svc.spec.selector
	count(selector) > 0
	some s in linkerd.selected_pod_sources(k8s.namespace, {"matchLabels": selector})
	not s.controlled
	src := workload_source(s)
}

workload_source(s) := {"value": v, "desc": sprintf("%s %q", [template_field(s), v])} if {
	v := s.template.annotations[linkerd.opaque_ports_annotation]
} else := {"value": ns_value, "desc": sprintf("namespace %q's %s %q", [k8s.namespace, linkerd.opaque_ports_annotation, ns_value])} if {
	not s.template.annotations[linkerd.opaque_ports_annotation]
}

template_field(s) := "pod template config.linkerd.io/opaque-ports" if s.kind != "Pod"

template_field(s) := "its config.linkerd.io/opaque-ports" if s.kind == "Pod"

# TCP ports of the Service with their target port on the workload's pods.
tcp_ports contains [i, port] if {
	some i, port in svc.spec.ports
	object.get(port, "protocol", "TCP") == "TCP"
}

target_port(port, _) := port.port if not port.targetPort

target_port(port, _) := k8s.port_number(port.targetPort)

target_port(port, spec) := p if {
	not k8s.port_number(port.targetPort)
	ports := linkerd.named_ports(spec, port.targetPort)
	count(ports) == 1
	some p in ports
}

conflicts contains [i, port, target, s, src, "service"] if {
	some [s, src] in selected
	ranges := linkerd.port_ranges(src.value, s.template.spec)
	some [i, port] in tcp_ports
	target := target_port(port, s.template.spec)
	linkerd.in_ranges(port.port, service_ranges)
	not linkerd.in_ranges(target, ranges)
}

conflicts contains [i, port, target, s, src, "workload"] if {
	some [s, src] in selected
	ranges := linkerd.port_ranges(src.value, s.template.spec)
	some [i, port] in tcp_ports
	target := target_port(port, s.template.spec)
	linkerd.in_ranges(target, ranges)
	is_set(service_ranges)
	not linkerd.in_ranges(port.port, service_ranges)
	not object.get(port, "appProtocol", "") in opaque_app_protocols
}

violation contains {"msg": msg} if {
	some [i, port, target, s, src, "service"] in conflicts
	msg := sprintf("spec.ports[%d] (port %d, targetPort %d) is opaque for the Service (%s) but not for %s %q (%s): its proxy still runs protocol detection", [
		i, port.port, target, service_source.desc, s.kind, s.name, src.desc,
	])
}

violation contains {"msg": msg} if {
	some [i, port, target, s, src, "workload"] in conflicts
	msg := sprintf("spec.ports[%d] (port %d, targetPort %d) is opaque for %s %q (%s) but not for the Service (%s): meshed clients still run protocol detection", [
		i, port.port, target, s.kind, s.name, src.desc, service_source.desc,
	])
}
