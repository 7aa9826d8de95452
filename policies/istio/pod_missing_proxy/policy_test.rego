package mesh.istio.pod_missing_proxy_test

import data.mesh.istio.pod_missing_proxy
import rego.v1

pod(meta, containers) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "v1", "kind": "Pod",
	"metadata": object.union({"name": "web-1", "namespace": "shop"}, meta),
	"spec": {"containers": [{"name": c} | some c in containers]},
}}}

namespace(labels) := {"cluster": {"v1": {"Namespace": {"shop": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}}}}}}

injected := namespace({"istio-injection": "enabled"})

test_injected_pod_allowed if {
	count(pod_missing_proxy.violation) == 0 with input as pod({}, ["web", "istio-proxy"]) with data.inventory as injected
}

test_namespace_not_injected_allowed if {
	count(pod_missing_proxy.violation) == 0 with input as pod({}, ["web"]) with data.inventory as namespace({"istio.io/rev": "canary"})
}

test_opted_out_allowed if {
	count(pod_missing_proxy.violation) == 0 with input as pod({"annotations": {"sidecar.istio.io/inject": "false"}}, ["web"]) with data.inventory as injected
	count(pod_missing_proxy.violation) == 0 with input as pod({"labels": {"sidecar.istio.io/inject": "false"}, "annotations": {"sidecar.istio.io/inject": "true"}}, ["web"]) with data.inventory as injected
}

test_missing_proxy_denied if {
	v := pod_missing_proxy.violation with input as pod({}, ["web"]) with data.inventory as injected
	v == {{"msg": "Pod web-1 has no istio-proxy container although namespace shop is labelled istio-injection=enabled: it runs outside the mesh until it is re-created"}}
}
