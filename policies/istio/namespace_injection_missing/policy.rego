# METADATA
# title: Namespace is not enabled for the mesh
# description: |
#   Pods in a namespace get an Istio sidecar only when the namespace is
#   labelled istio-injection=enabled or istio.io/rev=<revision>, and join the
#   ambient mesh only with istio.io/dataplane-mode=ambient. Without any of
#   them, new workloads run outside the mesh: no mTLS, no authorization
#   policy, no telemetry. Reported only when the inventory shows Istio (the
#   istio-system namespace or anything in it, or an istio.io resource in the
#   namespace itself). Not reported:
#   kube-system, kube-public, kube-node-lease, local-path-storage and
#   istio-system; namespaces that made a choice (istio-injection set to any
#   value, such as disabled, or istio.io/dataplane-mode set to any value,
#   such as none); namespaces meshed by Linkerd (linkerd.io/inject
#   annotation); namespaces whose workloads opt in one by one (pod label
#   sidecar.istio.io/inject=true or istio.io/rev, as Istio's gateway charts
#   do); and every namespace when the injector ConfigMap
#   istio-system/istio-sidecar-injector enables namespaces by default.
# custom:
#   id: MESH1205
#   severity: info
#   enforcement: audit
#   kinds: [Namespace]
#   inventory: [ConfigMap, Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job]
#   aliases: [IST0102]
#   remediation: |
#     Label the namespace istio-injection=enabled (or istio.io/rev=<revision>
#     for a revisioned control plane, or istio.io/dataplane-mode=ambient for
#     ambient mode), then restart its workloads. If it is meant to stay out
#     of the mesh, label it istio-injection=disabled to say so.
package mesh.istio.namespace_injection_missing

import data.mesh.lib.istio
import data.mesh.lib.istio_config
import data.mesh.lib.k8s
import rego.v1

skipped_namespaces := istio.system_namespaces | {"istio-system"}

# Labels that enrol the namespace, or record a decision to stay out.
decided(labels) if labels["istio-injection"]

decided(labels) if labels["istio.io/rev"]

decided(labels) if labels["istio.io/dataplane-mode"]

istio_present(_) if istio_config.installed

istio_present(name) if istio_config.used_in(name)

# Another mesh owns the namespace.
other_mesh(ns) if ns.metadata.annotations["linkerd.io/inject"]

# Workloads that ask for a sidecar themselves, whatever the namespace says.
pods_opt_in(name) if {
	some w in k8s.workloads(name)
	w.labels["sidecar.istio.io/inject"] == "true"
}

pods_opt_in(name) if {
	some w in k8s.workloads(name)
	w.labels["istio.io/rev"]
}

# sidecarInjectorWebhook.enableNamespacesByDefault of the default injector.
injected_by_default if {
	values := data.inventory.namespace["istio-system"].v1.ConfigMap["istio-sidecar-injector"].data.values
	json.is_valid(values)
	json.unmarshal(values).sidecarInjectorWebhook.enableNamespacesByDefault == true
}

violation contains {"msg": msg} if {
	ns := k8s.subject
	not ns.metadata.name in skipped_namespaces
	not decided(object.get(ns, ["metadata", "labels"], {}))
	istio_present(ns.metadata.name)
	not other_mesh(ns)
	not injected_by_default
	not pods_opt_in(ns.metadata.name)
	msg := sprintf("namespace %q is not enabled for Istio: metadata.labels has no istio-injection, istio.io/rev or istio.io/dataplane-mode label, so pods created in it get no Istio proxy", [ns.metadata.name])
}
