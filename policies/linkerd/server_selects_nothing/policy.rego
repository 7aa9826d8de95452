# METADATA
# title: Linkerd Server selects no pod
# description: |
#   A Server applies its authorization policy and proxy protocol to one port
#   of the pods its podSelector selects in its own namespace. When no Pod and
#   no pod template of a workload in that namespace matches the selector,
#   the Server governs nothing, usually because of a label typo, and the
#   policy written for the workload is not in force. When spec.port is a port
#   name, Linkerd only considers container ports with that name, so selected
#   pods none of which declares it leave the Server without a port too.
#   Numeric ports are not checked: they apply whether or not the container
#   declares them.
# custom:
#   id: MESH2002
#   severity: warning
#   enforcement: warn
#   kinds: [policy.linkerd.io/Server]
#   inventory: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob]
#   remediation: |
#     Make spec.podSelector match the labels of the workload's pod template
#     (spec.template.metadata.labels, not the Deployment's own labels) in the
#     Server's namespace, and make a named spec.port match a name under the
#     containers' ports. Delete Servers for workloads that no longer exist.
package mesh.linkerd.server_selects_nothing

import data.mesh.lib.k8s
import data.mesh.lib.linkerd
import rego.v1

server := k8s.subject

# Pod templates and Pods in the namespace that the selector matches.
selected := {s.template | some s in linkerd.selected_pod_sources(k8s.namespace, server.spec.podSelector)}

violation contains {"msg": msg} if {
	is_object(server.spec.podSelector)
	count(selected) == 0
	msg := sprintf("spec.podSelector %s matches no Pod or pod template in namespace %q", [
		json.marshal(server.spec.podSelector), k8s.namespace,
	])
}

violation contains {"msg": msg} if {
	port := server.spec.port
	is_string(port)
	not k8s.port_number(port)
	count(selected) > 0
	every t in selected {
		count(linkerd.named_ports(t.spec, port)) == 0
	}
	msg := sprintf("spec.port %q names no container port of the %d selected pod template(s) or Pod(s)", [port, count(selected)])
}
