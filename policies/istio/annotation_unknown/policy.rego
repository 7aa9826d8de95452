# METADATA
# title: Istio annotation is unknown or deprecated
# description: |
#   An annotation in an istio.io domain that Istio does not define (a typo
#   such as networking.istio.io/exportTo spelled differently) does nothing.
#   A deprecated one still works but goes away in a later release. The
#   annotations Istio defines come from istio.io/api
#   (policies/lib/istio_annotations.rego).
# custom:
#   id: MESH1211
#   severity: warning
#   enforcement: warn
#   kinds: [Namespace, Service, Pod, apps/Deployment]
#   requires:
#     fields: [metadata.annotations]
#   aliases: [IST0108, IST0135]
#   remediation: |
#     Fix the annotation's name (istioctl x precheck and the Istio
#     documentation list them), or replace a deprecated one with what
#     replaces it (the sidecar.istio.io/inject label for the annotation).
package mesh.istio.annotation_unknown

import data.mesh.lib.istio_annotations as annotations
import data.mesh.lib.k8s
import rego.v1

violation contains {"msg": msg} if {
	some key, _ in k8s.subject.metadata.annotations
	annotations.istio_annotation(key)
	not annotations.kinds[key]
	msg := sprintf("metadata.annotations[%q] is not an annotation Istio defines: it has no effect", [key])
}

violation contains {"msg": msg} if {
	some key, _ in k8s.subject.metadata.annotations
	key in annotations.deprecated
	not replaced(key)
	msg := sprintf("metadata.annotations[%q] is deprecated%s", [key, replacement(key)])
}

# The deprecated sidecar.istio.io/inject annotation next to the label that
# replaces it: kept on purpose, for older control planes.
replaced("sidecar.istio.io/inject") if k8s.subject.metadata.labels["sidecar.istio.io/inject"]

replacement("sidecar.istio.io/inject") := ` in favor of the "sidecar.istio.io/inject" label`

replacement(key) := "" if key != "sidecar.istio.io/inject"
