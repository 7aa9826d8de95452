# METADATA
# title: Mesh annotation on a workload instead of its pod template
# description: |
#   Istio's and Linkerd's proxy injectors read sidecar annotations
#   (sidecar.istio.io/*, proxy.istio.io/config, every Istio annotation
#   documented for Pods, linkerd.io/inject, config.linkerd.io/*, ...) from
#   the Pod, which gets them from the pod
#   template. On the Deployment, StatefulSet or DaemonSet's own metadata they
#   have no effect: the proxy is injected, or configured, as if they were not
#   there.
# custom:
#   id: MESH5001
#   severity: warning
#   enforcement: warn
#   kinds: [apps/Deployment, apps/StatefulSet, apps/DaemonSet]
#   aliases: [IST0107]
#   remediation: |
#     Move the annotation from metadata.annotations to
#     spec.template.metadata.annotations. linkerd.io/inject and
#     config.linkerd.io/* may also go on the Namespace.
package mesh.any.misplaced_mesh_annotation

import data.mesh.lib.istio_annotations
import data.mesh.lib.k8s
import rego.v1

# Annotations the injectors read from the Pod only.
pod_annotation("proxy.istio.io/config")

pod_annotation("inject.istio.io/templates")

pod_annotation("linkerd.io/inject")

pod_annotation(key) if {
	[domain, _] := split(key, "/")
	pod_annotation_domain(domain)
}

# Every other Istio annotation documented for Pods.
pod_annotation(key) if "Pod" in istio_annotations.kinds[key]

# sidecar.istio.io plus traffic., status. and readiness.status.sidecar.istio.io.
pod_annotation_domain("sidecar.istio.io")

pod_annotation_domain(domain) if endswith(domain, ".sidecar.istio.io")

pod_annotation_domain("config.linkerd.io")

pod_annotation_domain("config.alpha.linkerd.io")

violation contains {"msg": msg} if {
	workload := k8s.subject
	template := object.get(workload, ["spec", "template", "metadata", "annotations"], {})
	some key, value in object.get(workload, ["metadata", "annotations"], {})
	pod_annotation(key)

	# The same annotation with the same value on the template is only redundant.
	not template[key] == value
	msg := sprintf("metadata.annotations[%q] is on the %s, where it has no effect: it belongs in spec.template.metadata.annotations", [key, workload.kind])
}
