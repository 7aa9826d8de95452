# METADATA
# title: Telemetries select the same workload
# description: |
#   When two Telemetries in one namespace have selectors that both match a
#   workload, Istio applies only one of them to it and which one is
#   undefined: the other's metrics, tracing and access log settings
#   silently do not apply. Workloads are the namespace's Pods and the pod
#   templates of its workloads.
# custom:
#   id: MESH1402
#   severity: error
#   enforcement: warn
#   kinds: [telemetry.istio.io/Telemetry]
#   inventory: [telemetry.istio.io/Telemetry, Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob]
#   requires:
#     fields: [spec.selector]
#   aliases: [IST0159]
#   remediation: |
#     Make the selectors of the Telemetries in a namespace select disjoint
#     workloads, or merge the Telemetries into one.
package mesh.istio.telemetry_selector_conflict

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

selector_of(t) := s if {
	s := t.spec.selector.matchLabels
	is_object(s)
	count(s) > 0
}

mine := selector_of(k8s.subject)

# The label sets of the workloads this Telemetry selects.
selected := traffic.selected_label_sets(k8s.namespace, mine)

violation contains {"msg": msg} if {
	count(selected) > 0
	some other in k8s.namespaced(k8s.namespace, "telemetry.istio.io", "Telemetry")
	other.metadata.name != k8s.subject.metadata.name
	theirs := selector_of(other)
	shared := [l | some l in selected; k8s.labels_match(theirs, l)]
	count(shared) > 0
	msg := sprintf("spec.selector.matchLabels %s select the same workloads as Telemetry %s (%s): Istio applies only one of them", [traffic.format_labels(mine), other.metadata.name, traffic.format_labels(theirs)])
}
