package mesh.istio.namespace_proxy_image_test

import data.mesh.istio.namespace_proxy_image
import rego.v1

namespace(labels) := {"review": {"namespace": "", "operation": "CREATE", "object": {
	"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels},
}}}

injector(name, image) := {name: {
	"apiVersion": "v1", "kind": "ConfigMap",
	"metadata": {"name": name, "namespace": "istio-system"},
	"data": {"values": json.marshal({"global": {"hub": "docker.io/istio", "tag": "1.24.2", "proxy": {"image": image}}})},
}}

pod(name, image, annotations) := {name: {
	"apiVersion": "v1", "kind": "Pod",
	"metadata": {"name": name, "namespace": "shop", "annotations": annotations},
	"spec": {"containers": [{"name": "web", "image": "web:1"}, {"name": "istio-proxy", "image": image}]},
}}

inventory(injectors, pods) := {"namespace": {
	"istio-system": {"v1": {"ConfigMap": injectors}},
	"shop": {"v1": {"Pod": pods}},
}}

test_current_proxy_allowed if {
	inv := inventory(injector("istio-sidecar-injector", "proxyv2"), pod("web-1", "docker.io/istio/proxyv2:1.24.2", {}))
	count(namespace_proxy_image.violation) == 0 with input as namespace({"istio-injection": "enabled"}) with data.inventory as inv
}

test_old_proxy_denied if {
	inv := inventory(injector("istio-sidecar-injector", "proxyv2"), pod("web-1", "docker.io/istio/proxyv2:1.23.0", {}))
	v := namespace_proxy_image.violation with input as namespace({"istio-injection": "enabled"}) with data.inventory as inv
	v == {{"msg": "the injector istio-system/istio-sidecar-injector injects docker.io/istio/proxyv2:1.24.2, but pods of the namespace run another istio-proxy image: web-1 (docker.io/istio/proxyv2:1.23.0); they get the current proxy when re-created"}}
}

test_revision_injector_used if {
	injectors := object.union(injector("istio-sidecar-injector", "proxyv2"), injector("istio-sidecar-injector-canary", "docker.io/istio/proxyv2:1.25.0"))
	inv := inventory(injectors, pod("web-1", "docker.io/istio/proxyv2:1.25.0", {}))
	count(namespace_proxy_image.violation) == 0 with input as namespace({"istio.io/rev": "canary"}) with data.inventory as inv
}

test_distroless_variant_allowed if {
	inv := inventory(injector("istio-sidecar-injector", "proxyv2"), pod("web-1", "docker.io/istio/proxyv2:1.24.2-distroless", {"proxy.istio.io/config": "image:\n  imageType: distroless\n"}))
	count(namespace_proxy_image.violation) == 0 with input as namespace({"istio-injection": "enabled"}) with data.inventory as inv
}

test_no_injector_not_judged if {
	inv := inventory({}, pod("web-1", "docker.io/istio/proxyv2:1.23.0", {}))
	count(namespace_proxy_image.violation) == 0 with input as namespace({"istio-injection": "enabled"}) with data.inventory as inv
}

test_not_injected_not_judged if {
	inv := inventory(injector("istio-sidecar-injector", "proxyv2"), pod("web-1", "docker.io/istio/proxyv2:1.23.0", {}))
	count(namespace_proxy_image.violation) == 0 with input as namespace({}) with data.inventory as inv
}

test_workload_proxy_config_variant_allowed if {
	pc := {"apiVersion": "networking.istio.io/v1beta1", "kind": "ProxyConfig", "metadata": {"name": "pc", "namespace": "shop"}, "spec": {"selector": {"matchLabels": {"app": "web"}}, "image": {"imageType": "distroless"}}}
	p := json.patch(pod("web-1", "docker.io/istio/proxyv2:1.24.2-distroless", {}), [{"op": "add", "path": "/web-1/metadata/labels", "value": {"app": "web"}}])
	inv := object.union(inventory(injector("istio-sidecar-injector", "proxyv2"), p), {"namespace": {"shop": {"networking.istio.io/v1beta1": {"ProxyConfig": {"pc": pc}}}}})
	count(namespace_proxy_image.violation) == 0 with input as namespace({"istio-injection": "enabled"}) with data.inventory as inv
}
