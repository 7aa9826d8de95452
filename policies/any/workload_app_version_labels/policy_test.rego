package mesh.any.workload_app_version_labels_test

import data.mesh.any.workload_app_version_labels
import rego.v1

namespace(name, labels, annotations) := {
	"apiVersion": "v1", "kind": "Namespace",
	"metadata": {"name": name, "labels": labels, "annotations": annotations},
}

inventory := {"cluster": {"v1": {"Namespace": {
	"istio": namespace("istio", {"istio-injection": "enabled"}, {}),
	"revision": namespace("revision", {"istio.io/rev": "1-24"}, {}),
	"disabled": namespace("disabled", {"istio-injection": "disabled", "istio.io/rev": "1-24"}, {}),
	"linkerd": namespace("linkerd", {}, {"linkerd.io/inject": "enabled"}),
	"both": namespace("both", {"istio-injection": "enabled"}, {"linkerd.io/inject": "enabled"}),
	"plain": namespace("plain", {}, {}),
	"ambient": namespace("ambient", {"istio.io/dataplane-mode": "ambient"}, {}),
}}}}

review(ns, labels, annotations) := {"review": {
	"namespace": ns,
	"operation": "CREATE",
	"object": {
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": {"name": "reviews", "namespace": ns},
		"spec": {
			"selector": {"matchLabels": {"run": "reviews"}},
			"template": {
				"metadata": {"labels": labels, "annotations": annotations},
				"spec": {"containers": [{"name": "reviews", "image": "reviews:1"}]},
			},
		},
	},
}}

missing_app(ns, meshes) := {"msg": sprintf("spec.template.metadata.labels has no app label (app, app.kubernetes.io/name, service.istio.io/canonical-name): namespace %q is enabled for %s, whose telemetry groups traffic by it", [ns, meshes])}

missing_version(ns, meshes) := {"msg": sprintf("spec.template.metadata.labels has no version label (version, app.kubernetes.io/version, service.istio.io/canonical-revision): namespace %q is enabled for %s, whose telemetry groups traffic by it", [ns, meshes])}

test_app_and_version_allowed if {
	count(workload_app_version_labels.violation) == 0 with input as review("istio", {"run": "reviews", "app": "reviews", "version": "v1"}, {})
		with data.inventory as inventory
}

test_recommended_labels_allowed if {
	count(workload_app_version_labels.violation) == 0 with input as review("linkerd", {"app.kubernetes.io/name": "reviews", "app.kubernetes.io/version": "1.4.2"}, {})
		with data.inventory as inventory
}

test_missing_both_in_istio_namespace_denied if {
	v := workload_app_version_labels.violation with input as review("istio", {"run": "reviews"}, {})
		with data.inventory as inventory
	v == {missing_app("istio", "Istio"), missing_version("istio", "Istio")}
}

test_missing_version_in_revision_namespace_denied if {
	v := workload_app_version_labels.violation with input as review("revision", {"app": "reviews"}, {})
		with data.inventory as inventory
	v == {missing_version("revision", "Istio")}
}

test_missing_app_in_linkerd_and_istio_namespace_denied if {
	v := workload_app_version_labels.violation with input as review("both", {"version": "v1"}, {})
		with data.inventory as inventory
	v == {missing_app("both", "Istio and Linkerd")}
}

test_namespace_not_meshed_allowed if {
	count(workload_app_version_labels.violation) == 0 with input as review("plain", {"run": "reviews"}, {})
		with data.inventory as inventory
	count(workload_app_version_labels.violation) == 0 with input as review("disabled", {"run": "reviews"}, {})
		with data.inventory as inventory
}

test_unknown_namespace_not_checked if {
	count(workload_app_version_labels.violation) == 0 with input as review("elsewhere", {"run": "reviews"}, {})
		with data.inventory as inventory
}

test_pod_opt_out_allowed if {
	count(workload_app_version_labels.violation) == 0 with input as review("istio", {"run": "reviews", "sidecar.istio.io/inject": "false"}, {})
		with data.inventory as inventory
	count(workload_app_version_labels.violation) == 0 with input as review("linkerd", {"run": "reviews"}, {"linkerd.io/inject": "disabled"})
		with data.inventory as inventory
}

test_opt_out_of_one_mesh_only if {
	# Opted out of Istio, still injected by Linkerd.
	v := workload_app_version_labels.violation with input as review("both", {"app": "reviews", "sidecar.istio.io/inject": "false"}, {})
		with data.inventory as inventory
	v == {missing_version("both", "Linkerd")}
}

test_host_network_not_meshed if {
	host := json.patch(review("istio", {"run": "reviews"}, {}), [{"op": "add", "path": "/review/object/spec/template/spec/hostNetwork", "value": true}])
	count(workload_app_version_labels.violation) == 0 with input as host
		with data.inventory as inventory
}

test_ambient_namespace_denied if {
	v := workload_app_version_labels.violation with input as review("ambient", {"app": "reviews"}, {})
		with data.inventory as inventory
	v == {missing_version("ambient", "Istio")}
}

test_ambient_opt_out_allowed if {
	count(workload_app_version_labels.violation) == 0 with input as review("ambient", {"run": "reviews", "istio.io/dataplane-mode": "none"}, {})
		with data.inventory as inventory
}
