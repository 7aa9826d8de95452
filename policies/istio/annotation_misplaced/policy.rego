# METADATA
# title: Istio annotation on a kind it does not apply to
# description: |
#   Istio reads each of its annotations from the kinds it documents them for
#   (networking.istio.io/exportTo from Services, sidecar.istio.io/* from
#   Pods, kubernetes.io/ingress.class from Ingresses, ...). On a Namespace,
#   Service, Pod or Deployment it does not apply to, an annotation does
#   nothing. Pod annotations on a Deployment's own metadata are MESH5001's.
#   The kinds come from istio.io/api (policies/lib/istio_annotations.rego).
# custom:
#   id: MESH1210
#   severity: warning
#   enforcement: warn
#   kinds: [Namespace, Service, Pod, apps/Deployment]
#   requires:
#     fields: [metadata.annotations]
#   aliases: [IST0107]
#   remediation: |
#     Move the annotation to the kind it is for (a Pod annotation into the
#     workload's pod template), or remove it.
package mesh.istio.annotation_misplaced

import data.mesh.lib.istio_annotations as annotations
import data.mesh.lib.k8s
import rego.v1

violation contains {"msg": msg} if {
	some key, _ in k8s.subject.metadata.annotations
	annotations.istio_annotation(key)
	kinds := annotations.kinds[key]
	not "Any" in kinds
	not k8s.subject.kind in kinds
	not key in annotations.ignored
	not pod_annotation_on_workload(kinds)
	msg := sprintf("metadata.annotations[%q] applies to %s, not to a %s: Istio ignores it here", [key, concat(", ", sort(kinds)), k8s.subject.kind])
}

pod_annotation_on_workload(kinds) if {
	k8s.subject.kind == "Deployment"
	"Pod" in kinds
}
