package mesh.istio.annotation_misplaced_test

import data.mesh.istio.annotation_misplaced
import rego.v1

review(kind, annotations) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "v1", "kind": kind,
	"metadata": {"name": "x", "namespace": "shop", "annotations": annotations},
}}}

test_annotations_on_their_kinds_allowed if {
	count(annotation_misplaced.violation) == 0 with input as review("Service", {"networking.istio.io/exportTo": "."})
	count(annotation_misplaced.violation) == 0 with input as review("Pod", {"proxy.istio.io/config": "{}", "helm.sh/hook": "test"})
	count(annotation_misplaced.violation) == 0 with input as review("Namespace", {"galley.istio.io/analyze-suppress": "IST0102"})
}

test_ingress_class_on_pod_denied if {
	v := annotation_misplaced.violation with input as review("Pod", {"kubernetes.io/ingress.class": "istio"})
	v == {{"msg": `metadata.annotations["kubernetes.io/ingress.class"] applies to Ingress, not to a Pod: Istio ignores it here`}}
}

test_service_annotation_on_namespace_denied if {
	v := annotation_misplaced.violation with input as review("Namespace", {"networking.istio.io/exportTo": "."})
	v == {{"msg": `metadata.annotations["networking.istio.io/exportTo"] applies to Service, not to a Namespace: Istio ignores it here`}}
}

test_pod_annotation_on_deployment_left_to_mesh5001 if {
	deployment := json.patch(review("Deployment", {"sidecar.istio.io/statsInclusionPrefixes": "cluster.outbound"}), [{"op": "replace", "path": "/review/object/apiVersion", "value": "apps/v1"}])
	count(annotation_misplaced.violation) == 0 with input as deployment
}

test_annotations_set_by_istio_ignored if {
	count(annotation_misplaced.violation) == 0 with input as review("Service", {"gateway.istio.io/controller-version": "5", "sidecar.istio.io/status": "{}"})
}

test_unknown_annotations_left_to_mesh1211 if {
	count(annotation_misplaced.violation) == 0 with input as review("Service", {"networking.istio.io/exportThree": "bar"})
}
