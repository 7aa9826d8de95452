package mesh.istio.annotation_alpha_test

import data.mesh.istio.annotation_alpha
import rego.v1

pod(annotations, init) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "v1", "kind": "Pod",
	"metadata": {"name": "x", "namespace": "shop", "annotations": annotations},
	"spec": {"initContainers": [{"name": n} | some n in init], "containers": [{"name": "app"}]},
}}}

test_stable_annotations_allowed if {
	count(annotation_alpha.violation) == 0 with input as pod({"proxy.istio.io/config": "{}", "sidecar.istio.io/status": "{}"}, [])
}

test_alpha_annotation_denied if {
	v := annotation_alpha.violation with input as pod({"sidecar.istio.io/interceptionMode": "REDIRECT"}, ["istio-init"])
	v == {{"msg": `metadata.annotations["sidecar.istio.io/interceptionMode"] is an alpha Istio annotation: it may change or go away in a later release`}}
}

test_cni_annotations_without_istio_init_allowed if {
	count(annotation_alpha.violation) == 0 with input as pod({"sidecar.istio.io/interceptionMode": "REDIRECT", "traffic.sidecar.istio.io/includeInboundPorts": "*"}, ["istio-validation"])
}
