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

import data.mesh.lib.k8s
import rego.v1

# Kinds whose spec.template.metadata.labels are the labels of their pods,
# whatever their API version: looked up by key, never by scanning every
# object of the namespace.
template_kinds := [
	"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job",
	"ReplicationController", "Rollout", "DeploymentConfig", "CloneSet",
]

# True when a Pod or pod template in ns matches the selector. key and value
# are one of the selector's pairs, compared first as a cheap filter.
selects(ns, selector, key, value) if {
	some pod in data.inventory.namespace[ns].v1.Pod
	pod.metadata.labels[key] == value
	k8s.labels_match(selector, pod.metadata.labels)
} else if {
	some kind in template_kinds
	some obj in data.inventory.namespace[ns][_][kind]
	obj.spec.template.metadata.labels[key] == value
	k8s.labels_match(selector, obj.spec.template.metadata.labels)
} else if {
	some cron_job in data.inventory.namespace[ns][_].CronJob
	labels := cron_job.spec.jobTemplate.spec.template.metadata.labels
	labels[key] == value
	k8s.labels_match(selector, labels)
}

# The namespace's workloads are known: it has at least one Pod or workload.
workloads_known(ns) if count(data.inventory.namespace[ns].v1.Pod) > 0
else if {
	some kind in array.concat(template_kinds, ["CronJob"])
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
