# METADATA
# title: AuthorizationPolicy applies to no workload
# description: |
#   An AuthorizationPolicy applies to the workloads of its namespace that
#   its selector picks (every workload of the namespace without one; every
#   namespace's when it is in the root namespace istio-system). When no Pod
#   or workload pod template there matches, the policy protects nothing:
#   usually a label typo, or the policy was created in the wrong namespace.
#   Judged only when the inventory holds workloads at all (files seldom
#   carry the pods of a whole cluster); policies attached with targetRefs
#   are not judged.
# custom:
#   id: MESH1304
#   severity: warning
#   enforcement: warn
#   kinds: [security.istio.io/AuthorizationPolicy]
#   inventory: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob]
#   needs: [Pod|apps/Deployment|apps/StatefulSet|apps/DaemonSet|apps/ReplicaSet|batch/Job|batch/CronJob]
#   aliases: [IST0127, KIA0004]
#   remediation: |
#     Fix spec.selector.matchLabels to the labels of the workload's pods, or
#     create the policy in the workload's namespace.
package mesh.istio.authorizationpolicy_workload

import data.mesh.lib.index
import data.mesh.lib.istio_config
import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

selector := object.get(k8s.subject, ["spec", "selector", "matchLabels"], {})

targeted if count(traffic.target_refs(k8s.subject)) > 0

root if k8s.namespace == istio_config.root_namespace

# Some namespace of the inventory has workloads.
workloads_in_view if {
	some ns, _ in index.pod_label_sets
	count(index.pod_label_sets[ns]) > 0
}

selects_nothing if {
	count(selector) > 0
	root
	not traffic.selects_any_workload(selector)
} else if {
	count(selector) > 0
	not root
	count(traffic.selected_label_sets(k8s.namespace, selector)) == 0
} else if {
	count(selector) == 0
	not root
	count(k8s.pod_label_sets(k8s.namespace)) == 0
}

violation contains {"msg": msg} if {
	not targeted
	selects_nothing
	workloads_in_view
	msg := describe
}

describe := sprintf("spec.selector.matchLabels %s match no Pod or workload pod template in %s: the policy applies to nothing", [traffic.format_labels(selector), scope]) if count(selector) > 0
else := sprintf("namespace %s has no Pod or workload pod template: the namespace-wide policy applies to nothing", [k8s.namespace])

scope := "any namespace" if root
else := sprintf("namespace %s", [k8s.namespace])
