package mesh.any.misplaced_mesh_annotation_test

import data.mesh.any.misplaced_mesh_annotation
import rego.v1

review(kind, annotations, template_annotations) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "apps/v1", "kind": kind,
		"metadata": {"name": "reviews", "namespace": "shop", "annotations": annotations},
		"spec": {
			"selector": {"matchLabels": {"app": "reviews"}},
			"template": {
				"metadata": {"labels": {"app": "reviews"}, "annotations": template_annotations},
				"spec": {"containers": [{"name": "reviews", "image": "reviews:1"}]},
			},
		},
	},
}}

test_annotations_on_template_allowed if {
	count(misplaced_mesh_annotation.violation) == 0 with input as review(
		"Deployment",
		{"deployment.kubernetes.io/revision": "3", "kubectl-mesh.io/owner": "team-a"},
		{"sidecar.istio.io/proxyCPU": "100m", "linkerd.io/inject": "enabled", "proxy.istio.io/config": "{}"},
	)
}

test_istio_annotation_on_deployment_denied if {
	v := misplaced_mesh_annotation.violation with input as review("Deployment", {"sidecar.istio.io/inject": "false"}, {})
	v == {{"msg": `metadata.annotations["sidecar.istio.io/inject"] is on the Deployment, where it has no effect: it belongs in spec.template.metadata.annotations`}}
}

test_linkerd_annotations_on_statefulset_denied if {
	v := misplaced_mesh_annotation.violation with input as review(
		"StatefulSet",
		{"linkerd.io/inject": "enabled", "config.linkerd.io/proxy-cpu-request": "100m", "linkerd.io/created-by": "linkerd/cli"},
		{},
	)
	v == {
		{"msg": `metadata.annotations["linkerd.io/inject"] is on the StatefulSet, where it has no effect: it belongs in spec.template.metadata.annotations`},
		{"msg": `metadata.annotations["config.linkerd.io/proxy-cpu-request"] is on the StatefulSet, where it has no effect: it belongs in spec.template.metadata.annotations`},
	}
}

test_traffic_and_proxy_config_on_daemonset_denied if {
	count(misplaced_mesh_annotation.violation) == 2 with input as review(
		"DaemonSet",
		{"traffic.sidecar.istio.io/excludeOutboundPorts": "5432", "proxy.istio.io/config": "holdApplicationUntilProxyStarts: true"},
		{},
	)
}

test_duplicate_on_template_allowed if {
	# Copied onto the workload as well as the template: redundant, not misplaced.
	count(misplaced_mesh_annotation.violation) == 0 with input as review(
		"Deployment",
		{"sidecar.istio.io/inject": "true"},
		{"sidecar.istio.io/inject": "true"},
	)
}

test_different_value_on_template_denied if {
	count(misplaced_mesh_annotation.violation) == 1 with input as review(
		"Deployment",
		{"sidecar.istio.io/inject": "false"},
		{"sidecar.istio.io/inject": "true"},
	)
}

test_other_istio_annotations_not_checked if {
	# Not injector annotations (Istio's own analyzers cover the rest).
	count(misplaced_mesh_annotation.violation) == 0 with input as review(
		"Deployment",
		{"galley.istio.io/analyze-suppress": "IST0103", "install.operator.istio.io/owner-generation": "1"},
		{},
	)
}
