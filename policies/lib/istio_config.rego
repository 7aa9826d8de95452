# METADATA
# title: Istio installation helpers
# description: |
#   Whether the inventory shows Istio, so that policies about Istio
#   conventions stay quiet in clusters (or file sets) that run another mesh.
#   Every lookup is keyed: nothing scans all namespaces.
#   Import with `import data.mesh.lib.istio_config`.
package mesh.lib.istio_config

import data.mesh.lib.k8s
import rego.v1

# Istio's default meshConfig.rootNamespace, where mesh-wide configuration lives.
root_namespace := "istio-system"

# True when the inventory holds the root namespace or anything in it.
installed if k8s.namespace_object(root_namespace)

installed if {
	some api_version
	data.inventory.namespace[root_namespace][api_version]
}

# True when namespace ns holds an object of an istio.io API group
# (networking, security, telemetry...).
used_in(ns) if {
	some api_version
	data.inventory.namespace[ns][api_version]
	contains(api_version, ".istio.io/")
}

# True when the inventory shows another mesh than Istio: Linkerd's control
# plane namespace, or namespace ns meshed by Linkerd.
other_mesh(ns) if k8s.namespace_object("linkerd")
else if k8s.namespace_object(ns).metadata.annotations["linkerd.io/inject"]
else if {
	some api_version
	data.inventory.namespace.linkerd[api_version]
}

# Istio conventions apply: the inventory shows Istio, or shows no other mesh.
applies(ns) if installed
else if used_in(ns)
else if not other_mesh(ns)

# The MeshConfig istiod runs with: the mesh key of the istio ConfigMap in
# the root namespace (kubectl mesh check --mesh-config puts a file there);
# {} when the inventory does not hold it. Policies reading it declare
# ConfigMap in custom.inventory.
mesh_config := m if {
	text := data.inventory.namespace[root_namespace].v1.ConfigMap.istio.data.mesh
	m := yaml.unmarshal(text)
	is_object(m)
} else := {}

# The proxy metadata every proxy gets from the MeshConfig.
proxy_metadata := object.get(mesh_config, ["defaultConfig", "proxyMetadata"], {})
