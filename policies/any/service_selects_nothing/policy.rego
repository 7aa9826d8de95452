# METADATA
# title: Service selector matches no pod
# description: |
#   A Service with a selector sends its traffic to the pods whose labels
#   match it. When no Pod and no pod template in the namespace matches, the
#   Service has no endpoints and every request to it fails, in any mesh. The
#   check runs only when the namespace's workloads are known (at least one
#   Pod or workload in it), so a file holding only Services is not reported.
# custom:
#   id: MESH5002
#   severity: warning
#   enforcement: audit
#   kinds: [Service]
#   inventory: [Pod, ReplicationController, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob, argoproj.io/Rollout, apps.openshift.io/DeploymentConfig, apps.kruise.io/CloneSet]
#   remediation: |
#     Fix spec.selector to match the labels of the pod template
#     (spec.template.metadata.labels), not the workload's own labels, or
#     deploy the workload. Services without a selector are not checked.
package mesh.any.service_selects_nothing

import data.mesh.lib.index
import data.mesh.lib.k8s
import rego.v1

# Controllers beyond Kubernetes' own workloads (which the index has)
# whose spec.template.metadata.labels are the labels of their pods,
# whatever their API version: looked up by kind, never by scanning every
# object of the namespace.
other_template_kinds := ["ReplicationController", "Rollout", "DeploymentConfig", "CloneSet"]

# True when a Pod or pod template in ns matches the selector. The index
# has the namespace's Pods, workloads and CronJobs by label: the
# selector's pair key=value finds the candidates without a walk.
selects(ns, selector, key, value) if {
	some labels in index.pod_label_sets_by_label[ns][concat("=", [key, value])]
	k8s.labels_match(selector, labels)
} else if {
	some kind in other_template_kinds
	some obj in data.inventory.namespace[ns][_][kind]
	obj.spec.template.metadata.labels[key] == value
	k8s.labels_match(selector, obj.spec.template.metadata.labels)
}

# The namespace's workloads are known: it has at least one Pod or workload.
workloads_known(ns) if count(k8s.pod_label_sets(ns)) > 0
else if {
	some kind in other_template_kinds
	count(data.inventory.namespace[ns][_][kind]) > 0
}

violation contains {"msg": msg} if {
	svc := k8s.subject
	object.get(svc, ["spec", "type"], "ClusterIP") != "ExternalName"
	selector := object.get(svc, ["spec", "selector"], {})
	count(selector) > 0
	key := min(object.keys(selector))
	not selects(k8s.namespace, selector, key, selector[key])
	workloads_known(k8s.namespace)
	msg := sprintf("spec.selector %v matches no Pod or pod template in namespace %q", [selector, k8s.namespace])
}
