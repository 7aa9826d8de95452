# METADATA
# title: Workload lacks the Linkerd proxy in an injected namespace
# description: |
#   A namespace annotated linkerd.io/inject: enabled (or ingress) asks the
#   proxy injector to mesh every pod created in it. A pod template that sets
#   linkerd.io/inject: disabled opts its pods out, and a value the injector
#   does not accept (anything but enabled, disabled or ingress, e.g. "true")
#   makes it skip them too: those pods run without the proxy, so without
#   mTLS, metrics or the namespace's authorization policy. A Pod the API
#   server has already admitted (it has a metadata.uid) in such a namespace
#   that has no linkerd-proxy container was created before injection was
#   enabled or while the injector was unavailable. Host-network pods, which
#   the injector never meshes, and pods controlled by another object (their
#   owner is checked instead) are left out.
# custom:
#   id: MESH2001
#   severity: warning
#   enforcement: warn
#   kinds: [apps/Deployment, apps/StatefulSet, apps/DaemonSet, batch/Job, batch/CronJob, Pod]
#   inventory: [Namespace]
#   remediation: |
#     Remove linkerd.io/inject from the pod template so that it inherits the
#     namespace's, or set it to enabled. Restart (kubectl rollout restart) the
#     workloads whose pods predate injection. When the opt-out is deliberate
#     (for example a Job that must terminate and cannot use native sidecars),
#     annotate the workload with kubectl-mesh.io/suppress: MESH2001.
package mesh.linkerd.workload_not_injected

import data.mesh.lib.k8s
import data.mesh.lib.linkerd
import rego.v1

# The pod template (or Pod) under review, unless another object controls it
# or it uses the host network, which the injector never meshes.
template := t if {
	not linkerd.controlled(k8s.subject)
	t := linkerd.pod_template(k8s.subject)
	not t.spec.hostNetwork
}

ns_value := linkerd.namespace_inject(k8s.namespace)

violation contains {"msg": msg} if {
	template.annotations[linkerd.inject_annotation] == "disabled" # cheapest test first
	linkerd.namespace_injected(k8s.namespace)
	msg := sprintf("%s[%q] is \"disabled\" while namespace %q has linkerd.io/inject: %s: its pods run without the Linkerd proxy", [
		linkerd.annotations_path(template), linkerd.inject_annotation, k8s.namespace, ns_value,
	])
}

# An invalid value is a mistake wherever it is: the injector skips the pod
# even when its namespace, or the annotation's author, wants it meshed.
violation contains {"msg": msg} if {
	value := template.annotations[linkerd.inject_annotation]
	not value in linkerd.inject_values
	msg := sprintf("%s[%q] is %q, which the proxy injector does not accept (enabled, disabled or ingress): it skips these pods", [
		linkerd.annotations_path(template), linkerd.inject_annotation, sprintf("%v", [value]),
	])
}

violation contains {"msg": msg} if {
	pod := k8s.subject
	pod.kind == "Pod"
	admitted(pod)
	linkerd.namespace_injected(k8s.namespace)
	object.get(pod.metadata, ["annotations", linkerd.inject_annotation], "enabled") in {"enabled", "ingress"}
	not pod.spec.hostNetwork
	not object.get(pod, ["status", "phase"], "") in {"Succeeded", "Failed"}
	not pod.metadata.labels["linkerd.io/control-plane-component"]
	not has_container(pod.spec, "linkerd-proxy")
	not has_container(pod.spec, "istio-proxy")
	msg := sprintf("spec.containers has no linkerd-proxy although namespace %q has linkerd.io/inject: %s: %s", [
		k8s.namespace, ns_value, cause(pod),
	])
}

# A Pod stored by the API server has a uid (set before validating admission
# runs, after the injector has mutated it). Pods in files have none and are
# injected when applied.
admitted(pod) if pod.metadata.uid

has_container(spec, name) if {
	some c in linkerd.containers(spec)
	c.name == name
}

cause(pod) := "automountServiceAccountToken is false, and the injector skips pods without a service account token" if {
	pod.spec.automountServiceAccountToken == false
}

cause(pod) := "it was created before injection was enabled or while the injector was unavailable; restart its workload" if {
	not pod.spec.automountServiceAccountToken == false
}
