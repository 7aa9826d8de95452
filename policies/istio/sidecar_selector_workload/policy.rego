# METADATA
# title: Sidecar workloadSelector matches no workload
# description: |
#   A Sidecar with a workloadSelector applies to the pods of its own
#   namespace that carry its labels. When no Pod or pod template of a
#   workload there carries them (a typo, or the workload lives in another
#   namespace), the Sidecar configures nothing and those workloads keep the
#   namespace's default. A namespace with no workload in view at all is not
#   judged: its pods are not in the input.
# custom:
#   id: MESH1213
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/Sidecar]
#   inventory: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob]
#   needs: [Pod|apps/Deployment|apps/StatefulSet|apps/DaemonSet|apps/ReplicaSet|batch/Job|batch/CronJob]
#   requires:
#     fields: [spec.workloadSelector]
#   aliases: [IST0101, KIA0004]
#   remediation: |
#     Fix spec.workloadSelector.labels to the labels of the workload's pod
#     template, or create the Sidecar in the workload's namespace.
package mesh.istio.sidecar_selector_workload

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

violation contains {"msg": msg} if {
	selector := k8s.subject.spec.workloadSelector.labels
	traffic.selects_no_workload_in_view(k8s.namespace, selector)
	msg := sprintf("spec.workloadSelector.labels %s match no Pod or workload pod template in namespace %s: the Sidecar applies to nothing", [traffic.format_labels(selector), k8s.namespace])
}
