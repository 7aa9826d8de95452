# METADATA
# title: Sidecars select the same workload
# description: |
#   When two Sidecars in one namespace have workloadSelectors that both match
#   a workload, Istio applies only one of them (the oldest) and ignores the
#   other for that workload, so its egress, ingress and outbound traffic
#   settings silently do not apply. Workloads are the namespace's Pods and the
#   pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs
#   and CronJobs. When none of them is known, two selectors of which one
#   contains the other are reported, since every workload the narrower one
#   selects gets both.
# custom:
#   id: MESH1201
#   severity: error
#   enforcement: warn
#   kinds: [networking.istio.io/Sidecar]
#   inventory: [networking.istio.io/Sidecar, Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob]
#   aliases: [IST0110, KIA0003]
#   remediation: |
#     Make the workloadSelectors of the Sidecars in a namespace select disjoint
#     sets of workloads (add a distinguishing label such as version), or merge
#     the Sidecars into one.
package mesh.istio.sidecar_selector_conflict

import data.mesh.lib.k8s
import rego.v1

# The workloadSelector labels of a Sidecar; {} when there are none.
selector_labels(sc) := l if {
	l := sc.spec.workloadSelector.labels
	is_object(l)
} else := {}

# Sidecars with an empty selector are the namespace default (MESH1202): a
# selecting Sidecar takes precedence over them, so they never conflict here.
selective(sc) if count(selector_labels(sc)) > 0

show(labels) := concat(",", sort([sprintf("%s=%s", [k, v]) | some k, v in labels]))

mine := selector_labels(k8s.subject)

# The other selecting Sidecars of the namespace.
others contains other if {
	selective(k8s.subject)
	some other in k8s.namespaced(k8s.namespace, "networking.istio.io", "Sidecar")
	other.metadata.name != k8s.subject.metadata.name
	selective(other)
}

# Pods, pod-template workloads and CronJobs of the namespace (lib k8s.workloads
# leaves CronJobs out).
workloads := k8s.workloads(k8s.namespace) | {w |
	some cj in k8s.namespaced(k8s.namespace, "batch", "CronJob")
	w := {
		"kind": "CronJob", "name": cj.metadata.name,
		"labels": object.get(cj, ["spec", "jobTemplate", "spec", "template", "metadata", "labels"], {}),
	}
}

# The workloads this Sidecar selects, computed once for all the others.
selected contains w if {
	count(others) > 0
	some w in workloads
	k8s.labels_match(mine, w.labels)
}

shared(other) := sort([sprintf("%s %s", [w.kind, w.name]) |
	some w in selected
	k8s.labels_match(selector_labels(other), w.labels)
])

# At most three names, then how many more.
summary(names) := concat(", ", names) if count(names) <= 3

summary(names) := sprintf("%s and %d more", [concat(", ", array.slice(names, 0, 3)), count(names) - 3]) if count(names) > 3

violation contains {"msg": msg} if {
	some other in others
	names := shared(other)
	count(names) > 0
	msg := sprintf("spec.workloadSelector.labels %q select the same workloads as Sidecar %q (%q): %s", [
		show(mine), other.metadata.name, show(selector_labels(other)), summary(names),
	])
}

# No known workload is selected by both, but one selector contains the other:
# whatever the narrower one selects, both select.
violation contains {"msg": msg} if {
	some other in others
	count(shared(other)) == 0
	theirs := selector_labels(other)
	nested(mine, theirs)
	msg := sprintf("spec.workloadSelector.labels %q overlap Sidecar %q (%q): every workload with labels %q is selected by both", [
		show(mine), other.metadata.name, show(theirs), show(narrower(mine, theirs)),
	])
}

nested(a, b) if k8s.labels_match(a, b)

nested(a, b) if k8s.labels_match(b, a)

# The selector that names more labels (either one when they are equal).
narrower(a, b) := b if k8s.labels_match(a, b)

narrower(a, b) := a if not k8s.labels_match(a, b)
