# METADATA
# title: Istio annotation is alpha
# description: |
#   Istio marks some of its annotations alpha: their meaning and format may
#   change, or they may go away, from one release to the next, so an
#   upgrade can silently change what they do. The annotations CNI sets on
#   every pod (sidecar.istio.io/interceptionMode and the traffic capture
#   port and range annotations) are not reported on Pods without an
#   istio-init container. The maturity comes from istio.io/api
#   (policies/lib/istio_annotations.rego).
# custom:
#   id: MESH1212
#   severity: info
#   enforcement: audit
#   kinds: [Namespace, Service, Pod, apps/Deployment]
#   requires:
#     fields: [metadata.annotations]
#   aliases: [IST0136]
#   remediation: |
#     Check the annotation's documentation before each upgrade, or use the
#     stable API that replaces it (ProxyConfig, Sidecar, meshConfig).
package mesh.istio.annotation_alpha

import data.mesh.lib.istio_annotations as annotations
import data.mesh.lib.k8s
import rego.v1

# Set by istio-cni on every pod it captures.
cni_annotations := {
	"sidecar.istio.io/interceptionMode",
	"traffic.sidecar.istio.io/includeInboundPorts",
	"traffic.sidecar.istio.io/excludeInboundPorts",
	"traffic.sidecar.istio.io/includeOutboundIPRanges",
}

set_by_cni(key) if {
	key in cni_annotations
	k8s.subject.kind == "Pod"
	not "istio-init" in {c.name | some c in object.get(k8s.subject, ["spec", "initContainers"], [])}
}

violation contains {"msg": msg} if {
	some key, _ in k8s.subject.metadata.annotations
	key in annotations.alpha
	not key in annotations.ignored
	not set_by_cni(key)
	msg := sprintf("metadata.annotations[%q] is an alpha Istio annotation: it may change or go away in a later release", [key])
}
