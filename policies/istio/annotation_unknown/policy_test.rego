package mesh.istio.annotation_unknown_test

import data.mesh.istio.annotation_unknown
import rego.v1

review(annotations, labels) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "v1", "kind": "Pod",
	"metadata": {"name": "x", "namespace": "shop", "annotations": annotations, "labels": labels},
}}}

test_known_annotations_allowed if {
	count(annotation_unknown.violation) == 0 with input as review({"proxy.istio.io/config": "{}", "kubernetes.io/psp": "x"}, {})
}

test_typo_denied if {
	v := annotation_unknown.violation with input as review({"networking.istio.io/exportThree": "bar"}, {})
	v == {{"msg": `metadata.annotations["networking.istio.io/exportThree"] is not an annotation Istio defines: it has no effect`}}
}

test_deprecated_denied if {
	v := annotation_unknown.violation with input as review({"sidecar.istio.io/inject": "true"}, {})
	v == {{"msg": `metadata.annotations["sidecar.istio.io/inject"] is deprecated in favor of the "sidecar.istio.io/inject" label`}}
}

test_deprecated_next_to_replacement_allowed if {
	count(annotation_unknown.violation) == 0 with input as review({"sidecar.istio.io/inject": "true"}, {"sidecar.istio.io/inject": "true"})
}
