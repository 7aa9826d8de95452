package mesh.istio.sidecar_ambient_test

import data.mesh.istio.sidecar_ambient
import rego.v1

sidecar(spec) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
	"metadata": {"name": "default", "namespace": "shop"},
	"spec": spec,
}}}

namespace(labels) := {"cluster": {"v1": {"Namespace": {"shop": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}}}}}}

test_sidecar_namespace_allowed if {
	count(sidecar_ambient.violation) == 0 with input as sidecar({}) with data.inventory as namespace({"istio-injection": "enabled"})
	count(sidecar_ambient.violation) == 0 with input as sidecar({}) with data.inventory as namespace({"istio.io/dataplane-mode": "ambient", "istio.io/rev": "canary"})
}

test_ambient_namespace_denied if {
	v := sidecar_ambient.violation with input as sidecar({}) with data.inventory as namespace({"istio.io/dataplane-mode": "ambient"})
	v == {{"msg": "namespace shop is in the ambient data plane (istio.io/dataplane-mode=ambient): its pods have no sidecar, so the Sidecar has no effect"}}
}

test_ambient_pod_denied if {
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {
		"name": "reviews-1", "namespace": "shop", "labels": {"app": "reviews"},
		"annotations": {"ambient.istio.io/redirection": "enabled"},
	}}
	inv := object.union(namespace({}), {"namespace": {"shop": {"v1": {"Pod": {"reviews-1": pod}}}}})
	v := sidecar_ambient.violation with input as sidecar({"workloadSelector": {"labels": {"app": "reviews"}}}) with data.inventory as inv
	v == {{"msg": "spec.workloadSelector.labels select Pod reviews-1, which is in the ambient data plane (ambient.istio.io/redirection=enabled): it has no sidecar, so the Sidecar has no effect on it"}}
}
