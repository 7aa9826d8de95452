# METADATA
# title: Meshed workload has no app and version labels
# description: |
#   Mesh telemetry groups traffic by application and version: Istio derives
#   its canonical service and revision from the app and version labels (or
#   app.kubernetes.io/name and app.kubernetes.io/version), and Kiali and
#   Linkerd viz group workloads by them. A workload in the mesh without them
#   shows up under its pod names, with no version to compare. A workload is
#   in the mesh when its Namespace enables injection (istio-injection=enabled,
#   istio.io/rev, istio.io/dataplane-mode=ambient, or the linkerd.io/inject:
#   enabled annotation) and its pod template does not opt out.
# custom:
#   id: MESH5003
#   severity: info
#   enforcement: audit
#   kinds: [apps/Deployment, apps/StatefulSet, apps/DaemonSet]
#   inventory: [Namespace]
#   remediation: |
#     Add app and version labels (or app.kubernetes.io/name and
#     app.kubernetes.io/version) to spec.template.metadata.labels. Changing
#     a Deployment's spec.selector is not needed.
package mesh.any.workload_app_version_labels

import data.mesh.lib.k8s
import rego.v1

# Labels that name the application and its version, in Istio's order of
# preference (service.istio.io/canonical-* override the others in Istio).
app_labels := ["app", "app.kubernetes.io/name", "service.istio.io/canonical-name"]

version_labels := ["version", "app.kubernetes.io/version", "service.istio.io/canonical-revision"]

template := object.get(k8s.subject, ["spec", "template"], {})

pod_labels := object.get(template, ["metadata", "labels"], {})

pod_annotations := object.get(template, ["metadata", "annotations"], {})

ns_object := k8s.namespace_object(k8s.namespace)

ns_labels := object.get(ns_object, ["metadata", "labels"], {})

# Istio injects sidecars in namespaces labelled istio-injection=enabled, or
# with a revision label when istio-injection is not set; a pod opts out with
# sidecar.istio.io/inject=false as a label or annotation.
istio_meshed if {
	ns_labels["istio-injection"] == "enabled"
	not sidecar_opt_out
}

istio_meshed if {
	ns_labels["istio.io/rev"]
	not "istio-injection" in object.keys(ns_labels)
	not sidecar_opt_out
}

# Ambient mode captures the pods of namespaces labelled
# istio.io/dataplane-mode=ambient unless a pod opts out with the value none.
istio_meshed if {
	ns_labels["istio.io/dataplane-mode"] == "ambient"
	not pod_labels["istio.io/dataplane-mode"] == "none"
	not host_network
}

sidecar_opt_out if pod_labels["sidecar.istio.io/inject"] == "false"

sidecar_opt_out if pod_annotations["sidecar.istio.io/inject"] == "false"

sidecar_opt_out if host_network

# No mesh captures pods on the host network.
host_network if template.spec.hostNetwork == true

linkerd_meshed if {
	object.get(ns_object, ["metadata", "annotations", "linkerd.io/inject"], "") == "enabled"
	not linkerd_opt_out
}

linkerd_opt_out if pod_annotations["linkerd.io/inject"] == "disabled"

linkerd_opt_out if host_network

meshes contains "Istio" if istio_meshed

meshes contains "Linkerd" if linkerd_meshed

missing contains ["app", app_labels] if {
	every key in app_labels {
		not pod_labels[key]
	}
}

missing contains ["version", version_labels] if {
	every key in version_labels {
		not pod_labels[key]
	}
}

violation contains {"msg": msg} if {
	some [what, keys] in missing # cheapest test first: most workloads have both labels
	count(meshes) > 0
	msg := sprintf("spec.template.metadata.labels has no %s label (%s): namespace %q is enabled for %s, whose telemetry groups traffic by it", [
		what, concat(", ", keys), k8s.namespace, concat(" and ", sort(meshes)),
	])
}
