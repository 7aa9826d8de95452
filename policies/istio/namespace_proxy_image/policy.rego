# METADATA
# title: Injected pods run another proxy image than the injector's
# description: |
#   The injector (the istio-sidecar-injector ConfigMap in istio-system, or
#   istio-sidecar-injector-<revision> for a namespace labelled
#   istio.io/rev) puts one proxy image into new pods. Running pods with
#   another istio-proxy image were injected before an upgrade (or by
#   another revision): they run a proxy the control plane may no longer
#   support until they are re-created. The image variant (distroless)
#   comes from the pod's proxy.istio.io/config annotation, the ProxyConfigs
#   selecting the pod, of its namespace or of the root namespace, or the
#   MeshConfig's defaultConfig.image.imageType; pods naming their own image (sidecar.istio.io/proxyImage)
#   are not judged. Judged only when the injector ConfigMap and Pods are in
#   the inventory.
# custom:
#   id: MESH1222
#   severity: warning
#   enforcement: audit
#   kinds: [Namespace]
#   inventory: [ConfigMap, Pod, networking.istio.io/ProxyConfig]
#   needs: [ConfigMap, Pod]
#   aliases: [IST0158]
#   remediation: |
#     Restart the namespace's workloads (kubectl rollout restart deployment
#     -n NAMESPACE) so their pods get the current proxy.
package mesh.istio.namespace_proxy_image

import data.mesh.lib.istio_config
import data.mesh.lib.k8s
import rego.v1

ns := k8s.subject.metadata.name

labels := object.get(k8s.subject, ["metadata", "labels"], {})

# The injector revision of the namespace, as istioctl reads the labels.
revision := r if r := labels["istio.io/rev"]
else := "default" if labels["istio-injection"] == "enabled"

injector_name := "istio-sidecar-injector" if revision == "default"
else := concat("-", ["istio-sidecar-injector", revision])

values := json.unmarshal(data.inventory.namespace[istio_config.root_namespace].v1.ConfigMap[injector_name].data.values)

# global.proxy.image, completed with global.hub and global.tag unless it
# is a full reference.
proxy_image := values.global.proxy.image if contains(values.global.proxy.image, "/")
else := sprintf("%s/%s:%s", [values.global.hub, values.global.proxy.image, values.global.tag])

image_type(config) := config.image.imageType

mesh_variant := v if v := image_type(istio_config.mesh_config.defaultConfig)

proxy_config_variant(namespace) := v if {
	some pc in k8s.namespaced(namespace, "networking.istio.io", "ProxyConfig")
	not pc.spec.selector
	v := image_type(pc.spec)
}

workload_variant(pod) := v if {
	some pc in k8s.namespaced(ns, "networking.istio.io", "ProxyConfig")
	selector := pc.spec.selector.matchLabels
	k8s.labels_match(selector, object.get(pod, ["metadata", "labels"], {}))
	v := image_type(pc.spec)
}

# The most specific setting wins: the pod's annotation, a ProxyConfig
# selecting the pod, the namespace's, the root namespace's, the MeshConfig.
variant(pod) := v if v := image_type(yaml.unmarshal(pod.metadata.annotations["proxy.istio.io/config"]))
else := v if v := workload_variant(pod)
else := v if v := proxy_config_variant(ns)
else := v if v := proxy_config_variant(istio_config.root_namespace)
else := mesh_variant

expected(pod) := {proxy_image, sprintf("%s-%s", [proxy_image, variant(pod)])} if variant(pod)
else := {proxy_image}

mismatched contains sprintf("%s (%s)", [pod.metadata.name, c.image]) if {
	some pod in k8s.namespaced(ns, "", "Pod")
	not pod.metadata.annotations["sidecar.istio.io/proxyImage"]
	some field in ["containers", "initContainers"]
	some c in object.get(pod, ["spec", field], [])
	c.name == "istio-proxy"
	not c.image in expected(pod)
}

violation contains {"msg": msg} if {
	count(mismatched) > 0
	msg := sprintf("the injector %s/%s injects %s, but pods of the namespace run another istio-proxy image: %s; they get the current proxy when re-created", [istio_config.root_namespace, injector_name, proxy_image, concat(", ", sort(mismatched))])
}
