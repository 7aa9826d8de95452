package mesh.linkerd.workload_not_injected_test

import data.mesh.linkerd.workload_not_injected
import rego.v1

namespace(name, annotations, labels) := {
	"apiVersion": "v1", "kind": "Namespace",
	"metadata": {"name": name, "annotations": annotations, "labels": labels},
}

inventory := {"cluster": {"v1": {"Namespace": {
	"shop": namespace("shop", {"linkerd.io/inject": "enabled"}, {}),
	"edge": namespace("edge", {"linkerd.io/inject": "ingress"}, {}),
	"plain": namespace("plain", {}, {}),
	"nowebhook": namespace("nowebhook", {"linkerd.io/inject": "enabled"}, {"config.linkerd.io/admission-webhooks": "disabled"}),
}}}}

deployment(ns, annotations) := {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": "web", "namespace": ns},
	"spec": {
		"selector": {"matchLabels": {"app": "web"}},
		"template": {
			"metadata": {"labels": {"app": "web"}, "annotations": annotations},
			"spec": {"containers": [{"name": "web", "image": "nginx"}]},
		},
	},
}

review(obj) := {"review": {
	"namespace": obj.metadata.namespace,
	"operation": "CREATE",
	"object": obj,
}}

# An admitted Pod of a ReplicaSet, with or without the injected proxy.
pod(ns, containers) := {
	"apiVersion": "v1", "kind": "Pod",
	"metadata": {
		"name": "web-7d9f-abcde", "namespace": ns, "uid": "0b4c6a4e-8a51-4d1e-9d3f-2f1f3c1b2a11",
		"labels": {"app": "web"},
		"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f", "uid": "1", "controller": true}],
	},
	"spec": {"containers": containers},
	"status": {"phase": "Running"},
}

app := {"name": "web", "image": "nginx"}

proxy := {"name": "linkerd-proxy", "image": "cr.l5d.io/linkerd/proxy:edge-25.1.1"}

test_inherited_injection_allowed if {
	count(workload_not_injected.violation) == 0 with input as review(deployment("shop", {}))
		with data.inventory as inventory
}

test_explicit_enabled_allowed if {
	count(workload_not_injected.violation) == 0 with input as review(deployment("shop", {"linkerd.io/inject": "enabled"}))
		with data.inventory as inventory
}

test_opt_out_denied if {
	v := workload_not_injected.violation with input as review(deployment("shop", {"linkerd.io/inject": "disabled"}))
		with data.inventory as inventory
	v == {{"msg": `spec.template.metadata.annotations["linkerd.io/inject"] is "disabled" while namespace "shop" has linkerd.io/inject: enabled: its pods run without the Linkerd proxy`}}
}

test_opt_out_in_ingress_namespace_denied if {
	count(workload_not_injected.violation) == 1 with input as review(deployment("edge", {"linkerd.io/inject": "disabled"}))
		with data.inventory as inventory
}

test_opt_out_in_plain_namespace_allowed if {
	count(workload_not_injected.violation) == 0 with input as review(deployment("plain", {"linkerd.io/inject": "disabled"}))
		with data.inventory as inventory
}

test_opt_out_where_webhook_excluded_allowed if {
	count(workload_not_injected.violation) == 0 with input as review(deployment("nowebhook", {"linkerd.io/inject": "disabled"}))
		with data.inventory as inventory
}

test_unknown_namespace_allowed if {
	count(workload_not_injected.violation) == 0 with input as review(deployment("elsewhere", {"linkerd.io/inject": "disabled"}))
		with data.inventory as inventory
}

test_host_network_opt_out_allowed if {
	ds := json.patch(deployment("shop", {"linkerd.io/inject": "disabled"}), [{"op": "add", "path": "/spec/template/spec/hostNetwork", "value": true}])
	count(workload_not_injected.violation) == 0 with input as review(ds)
		with data.inventory as inventory
}

test_invalid_value_denied_anywhere if {
	v := workload_not_injected.violation with input as review(deployment("plain", {"linkerd.io/inject": "true"}))
		with data.inventory as inventory
	v == {{"msg": `spec.template.metadata.annotations["linkerd.io/inject"] is "true", which the proxy injector does not accept (enabled, disabled or ingress): it skips these pods`}}
}

test_cronjob_template_path if {
	cj := {
		"apiVersion": "batch/v1", "kind": "CronJob",
		"metadata": {"name": "report", "namespace": "shop"},
		"spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {
			"metadata": {"annotations": {"linkerd.io/inject": "disabled"}},
			"spec": {"restartPolicy": "OnFailure", "containers": [app]},
		}}}},
	}
	v := workload_not_injected.violation with input as review(cj)
		with data.inventory as inventory
	v == {{"msg": `spec.jobTemplate.spec.template.metadata.annotations["linkerd.io/inject"] is "disabled" while namespace "shop" has linkerd.io/inject: enabled: its pods run without the Linkerd proxy`}}
}

test_job_of_cronjob_not_reported_twice if {
	job := {
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": {"name": "report-28000000", "namespace": "shop", "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "report", "uid": "2", "controller": true}]},
		"spec": {"template": {
			"metadata": {"annotations": {"linkerd.io/inject": "disabled"}},
			"spec": {"restartPolicy": "OnFailure", "containers": [app]},
		}},
	}
	count(workload_not_injected.violation) == 0 with input as review(job)
		with data.inventory as inventory
}

test_injected_pod_allowed if {
	count(workload_not_injected.violation) == 0 with input as review(pod("shop", [app, proxy]))
		with data.inventory as inventory
}

test_native_sidecar_pod_allowed if {
	p := json.patch(pod("shop", [app]), [{"op": "add", "path": "/spec/initContainers", "value": [object.union(proxy, {"restartPolicy": "Always"})]}])
	count(workload_not_injected.violation) == 0 with input as review(p)
		with data.inventory as inventory
}

test_admitted_pod_without_proxy_denied if {
	v := workload_not_injected.violation with input as review(pod("shop", [app]))
		with data.inventory as inventory
	v == {{"msg": `spec.containers has no linkerd-proxy although namespace "shop" has linkerd.io/inject: enabled: it was created before injection was enabled or while the injector was unavailable; restart its workload`}}
}

test_pod_without_token_names_cause if {
	p := json.patch(pod("shop", [app]), [{"op": "add", "path": "/spec/automountServiceAccountToken", "value": false}])
	v := workload_not_injected.violation with input as review(p)
		with data.inventory as inventory
	v == {{"msg": `spec.containers has no linkerd-proxy although namespace "shop" has linkerd.io/inject: enabled: automountServiceAccountToken is false, and the injector skips pods without a service account token`}}
}

test_pod_from_file_not_checked_for_proxy if {
	# No uid: the Pod has not been through admission yet, the injector will add the proxy.
	p := json.remove(pod("shop", [app]), ["metadata/uid"])
	count(workload_not_injected.violation) == 0 with input as review(p)
		with data.inventory as inventory
}

test_finished_pod_allowed if {
	p := json.patch(pod("shop", [app]), [{"op": "replace", "path": "/status/phase", "value": "Succeeded"}])
	count(workload_not_injected.violation) == 0 with input as review(p)
		with data.inventory as inventory
}

test_opted_out_pod_of_replicaset_reported_on_owner_only if {
	p := json.patch(pod("shop", [app]), [{"op": "add", "path": "/metadata/annotations", "value": {"linkerd.io/inject": "disabled"}}])
	count(workload_not_injected.violation) == 0 with input as review(p)
		with data.inventory as inventory
}

test_bare_opted_out_pod_denied if {
	p := json.patch(pod("shop", [app]), [
		{"op": "remove", "path": "/metadata/ownerReferences"},
		{"op": "add", "path": "/metadata/annotations", "value": {"linkerd.io/inject": "disabled"}},
	])
	v := workload_not_injected.violation with input as review(p)
		with data.inventory as inventory
	v == {{"msg": `metadata.annotations["linkerd.io/inject"] is "disabled" while namespace "shop" has linkerd.io/inject: enabled: its pods run without the Linkerd proxy`}}
}

test_host_network_pod_allowed if {
	p := json.patch(pod("shop", [app]), [{"op": "add", "path": "/spec/hostNetwork", "value": true}])
	count(workload_not_injected.violation) == 0 with input as review(p)
		with data.inventory as inventory
}
