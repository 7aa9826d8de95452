# METADATA
# title: Telemetry selector matches no workload in its namespace
# description: |
#   A Telemetry with spec.selector applies to the pods of its own namespace
#   that carry its labels. When no Pod or pod template of a workload there
#   carries them (a typo, or the workload lives in another namespace), its
#   metrics, tracing and access log settings apply to nothing. A namespace
#   with no workload in view at all is not judged: its pods are not in the
#   input.
# custom:
#   id: MESH1401
#   severity: warning
#   enforcement: warn
#   kinds: [telemetry.istio.io/Telemetry]
#   inventory: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob]
#   needs: [Pod|apps/Deployment|apps/StatefulSet|apps/DaemonSet|apps/ReplicaSet|batch/Job|batch/CronJob]
#   requires:
#     fields: [spec.selector]
#   aliases: [IST0101]
#   remediation: |
#     Fix spec.selector.matchLabels to the labels of the workload's pod
#     template, or create the Telemetry in the workload's namespace.
package mesh.istio.telemetry_selector_workload

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

violation contains {"msg": msg} if {
	selector := k8s.subject.spec.selector.matchLabels
	traffic.selects_no_workload_in_view(k8s.namespace, selector)
	msg := sprintf("spec.selector.matchLabels %s match no Pod or workload pod template in namespace %s: the Telemetry applies to nothing", [traffic.format_labels(selector), k8s.namespace])
}
