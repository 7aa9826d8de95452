# METADATA
# title: Pod in an injected namespace runs without the Istio proxy
# description: |
#   The sidecar injector adds istio-proxy to pods created in a namespace
#   labelled istio-injection=enabled. A running Pod there without it was
#   created before the label, or while the injector was down: it is outside
#   the mesh (no mTLS, policy or telemetry) until it is re-created. Pods
#   that opt out (sidecar.istio.io/inject=false, as label or annotation)
#   and pods on the host network are not judged.
# custom:
#   id: MESH1219
#   severity: warning
#   enforcement: audit
#   kinds: [Pod]
#   inventory: [Namespace]
#   aliases: [IST0103]
#   remediation: |
#     Restart the workload (kubectl rollout restart deployment NAME) so its
#     pods are re-created with the proxy; check the injector webhook if they
#     still come up without it.
package mesh.istio.pod_missing_proxy

import data.mesh.lib.k8s
import rego.v1

injected_namespace if k8s.namespace_object(k8s.namespace).metadata.labels["istio-injection"] == "enabled"

# The label wins over the annotation, as in the injector.
opted_out if lower(k8s.subject.metadata.labels["sidecar.istio.io/inject"]) == "false"
else if {
	not k8s.subject.metadata.labels["sidecar.istio.io/inject"]
	lower(k8s.subject.metadata.annotations["sidecar.istio.io/inject"]) == "false"
}

has_proxy if {
	some field in ["containers", "initContainers"]
	some c in object.get(k8s.subject, ["spec", field], [])
	c.name == "istio-proxy"
}

violation contains {"msg": msg} if {
	not has_proxy
	not object.get(k8s.subject, ["spec", "hostNetwork"], false)
	injected_namespace
	not opted_out
	msg := sprintf("Pod %s has no istio-proxy container although namespace %s is labelled istio-injection=enabled: it runs outside the mesh until it is re-created", [k8s.subject.metadata.name, k8s.namespace])
}
