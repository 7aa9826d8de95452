package mesh.istio.namespace_injection_missing_test

import data.mesh.istio.namespace_injection_missing
import rego.v1

review(name, labels) := {"review": {"namespace": "", "operation": "CREATE", "object": {
	"apiVersion": "v1", "kind": "Namespace",
	"metadata": {"name": name, "labels": labels},
}}}

# Istio is installed: its root namespace is known.
istio := {"cluster": {"v1": {"Namespace": {"istio-system": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}}}}}

injector(enabled) := {"namespace": {"istio-system": {"v1": {"ConfigMap": {"istio-sidecar-injector": {
	"apiVersion": "v1", "kind": "ConfigMap",
	"metadata": {"name": "istio-sidecar-injector", "namespace": "istio-system"},
	"data": {
		"config": "policy: enabled",
		"values": json.marshal({"global": {"hub": "docker.io/istio"}, "sidecarInjectorWebhook": {"enableNamespacesByDefault": enabled}}),
	},
}}}}}}

test_enrolled_namespaces_allowed if {
	count(namespace_injection_missing.violation) == 0 with input as review("shop", {"istio-injection": "enabled"})
	count(namespace_injection_missing.violation) == 0 with input as review("shop", {"istio.io/rev": "1-24-2"})
	count(namespace_injection_missing.violation) == 0 with input as review("shop", {"istio.io/dataplane-mode": "ambient"})
}

test_opt_out_allowed if {
	count(namespace_injection_missing.violation) == 0 with input as review("legacy", {"istio-injection": "disabled"})
	count(namespace_injection_missing.violation) == 0 with input as review("legacy", {"istio.io/dataplane-mode": "none"})
}

test_system_namespaces_allowed if {
	every name in ["kube-system", "kube-public", "kube-node-lease", "istio-system"] {
		count(namespace_injection_missing.violation) == 0 with input as review(name, {})
	}
}

test_unlabelled_namespace_denied if {
	v := namespace_injection_missing.violation with input as review("shop", {"team": "shop"}) with data.inventory as istio
	v == {{"msg": `namespace "shop" is not enabled for Istio: metadata.labels has no istio-injection, istio.io/rev or istio.io/dataplane-mode label, so pods created in it get no Istio proxy`}}
}

test_namespace_without_labels_denied if {
	count(namespace_injection_missing.violation) == 1 with input as {"review": {"namespace": "", "operation": "CREATE", "object": {
		"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"},
	}}}
		with data.inventory as istio
}

test_injection_enabled_by_default_allowed if {
	count(namespace_injection_missing.violation) == 0 with input as review("shop", {})
		with data.inventory as injector(true)
}

test_injector_not_enabled_by_default_denied if {
	count(namespace_injection_missing.violation) == 1 with input as review("shop", {})
		with data.inventory as injector(false)
}

test_malformed_injector_values_ignored if {
	broken := json.patch(injector(true), [{"op": "replace", "path": "/namespace/istio-system/v1/ConfigMap/istio-sidecar-injector/data/values", "value": "{not json"}])
	count(namespace_injection_missing.violation) == 1 with input as review("shop", {})
		with data.inventory as broken
}

test_without_istio_not_reported if {
	count(namespace_injection_missing.violation) == 0 with input as review("shop", {}) with data.inventory as {}
}

test_istio_resource_shows_istio if {
	inv := {"namespace": {"shop": {"networking.istio.io/v1": {"VirtualService": {"reviews": {
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": {"name": "reviews", "namespace": "shop"}, "spec": {"hosts": ["reviews"]},
	}}}}}}
	count(namespace_injection_missing.violation) == 1 with input as review("shop", {}) with data.inventory as inv
}

test_linkerd_namespace_not_reported if {
	linkerd := {"review": {"namespace": "", "operation": "CREATE", "object": {
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": {"name": "shop", "annotations": {"linkerd.io/inject": "enabled"}},
	}}}
	count(namespace_injection_missing.violation) == 0 with input as linkerd with data.inventory as istio
}

test_pods_opting_in_not_reported if {
	gateway := {
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": {"name": "istio-ingress", "namespace": "istio-ingress"},
		"spec": {"template": {"metadata": {
			"labels": {"app": "istio-ingress", "istio": "ingress", "sidecar.istio.io/inject": "true"},
			"annotations": {"inject.istio.io/templates": "gateway"},
		}}},
	}
	inv := object.union(istio, {"namespace": {"istio-ingress": {"apps/v1": {"Deployment": {"istio-ingress": gateway}}}}})
	count(namespace_injection_missing.violation) == 0 with input as review("istio-ingress", {}) with data.inventory as inv
}

test_pods_opting_out_still_reported if {
	job := {
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": {"name": "migrate", "namespace": "shop"},
		"spec": {"template": {"metadata": {"labels": {"app": "migrate", "sidecar.istio.io/inject": "false"}}}},
	}
	inv := object.union(istio, {"namespace": {"shop": {"batch/v1": {"Job": {"migrate": job}}}}})
	count(namespace_injection_missing.violation) == 1 with input as review("shop", {}) with data.inventory as inv
}
