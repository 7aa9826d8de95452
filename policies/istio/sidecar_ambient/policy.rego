# METADATA
# title: Sidecar applies to workloads in the ambient data plane
# description: |
#   A Sidecar configures sidecar proxies. Pods in the ambient data plane
#   have none: their namespace is labelled istio.io/dataplane-mode=ambient
#   (without sidecar injection labels), or istio-cni marked them
#   ambient.istio.io/redirection=enabled. A Sidecar for them has no effect;
#   its egress and ingress settings belong in a waypoint's configuration.
# custom:
#   id: MESH1214
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/Sidecar]
#   inventory: [Namespace, Pod]
#   aliases: [IST0167]
#   remediation: |
#     Remove the Sidecar, or take the namespace out of ambient mode if its
#     workloads are meant to run sidecars.
package mesh.istio.sidecar_ambient

import data.mesh.lib.k8s
import rego.v1

namespace_labels := object.get(k8s.namespace_object(k8s.namespace), ["metadata", "labels"], {})

# As istioctl: ambient unless sidecar injection is asked for too.
ambient_namespace if {
	namespace_labels["istio.io/dataplane-mode"] == "ambient"
	object.get(namespace_labels, "istio-injection", "") != "enabled"
	object.get(namespace_labels, "istio.io/rev", "") == ""
}

selector := object.get(k8s.subject, ["spec", "workloadSelector", "labels"], {})

violation contains {"msg": msg} if {
	ambient_namespace
	msg := sprintf("namespace %s is in the ambient data plane (istio.io/dataplane-mode=ambient): its pods have no sidecar, so the Sidecar has no effect", [k8s.namespace])
}

violation contains {"msg": msg} if {
	not ambient_namespace
	count(selector) > 0
	some pod in k8s.namespaced(k8s.namespace, "", "Pod")
	pod.metadata.annotations["ambient.istio.io/redirection"] == "enabled"
	k8s.labels_match(selector, object.get(pod, ["metadata", "labels"], {}))
	msg := sprintf("spec.workloadSelector.labels select Pod %s, which is in the ambient data plane (ambient.istio.io/redirection=enabled): it has no sidecar, so the Sidecar has no effect on it", [pod.metadata.name])
}
