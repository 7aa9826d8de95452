package mesh.any.service_selects_nothing_test

import data.mesh.any.service_selects_nothing
import rego.v1

deployment(name, labels) := {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": name, "namespace": "shop", "labels": {"team": "shop"}},
	"spec": {
		"selector": {"matchLabels": labels},
		"template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": "example:1"}]}},
	},
}

inventory := {"namespace": {
	"shop": {
		"apps/v1": {"Deployment": {"reviews-v1": deployment("reviews-v1", {"app": "reviews", "version": "v1"})}},
		"v1": {"Pod": {"debug": {
			"apiVersion": "v1", "kind": "Pod",
			"metadata": {"name": "debug", "namespace": "shop", "labels": {"app": "debug"}},
		}}},
		"batch/v1": {"CronJob": {"report": {
			"apiVersion": "batch/v1", "kind": "CronJob",
			"metadata": {"name": "report", "namespace": "shop"},
			"spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "report"}}}}}},
		}}},
		"argoproj.io/v1alpha1": {"Rollout": {"ratings": {
			"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
			"metadata": {"name": "ratings", "namespace": "shop"},
			"spec": {"template": {"metadata": {"labels": {"app": "ratings"}}}},
		}}},
	},
	"empty": {"v1": {"ConfigMap": {"settings": {
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": {"name": "settings", "namespace": "empty"},
	}}}},
}}

review(ns, spec) := {"review": {
	"namespace": ns,
	"operation": "CREATE",
	"object": {
		"apiVersion": "v1", "kind": "Service",
		"metadata": {"name": "svc", "namespace": ns},
		"spec": object.union({"ports": [{"name": "http", "port": 9080}]}, spec),
	},
}}

test_selector_matching_template_allowed if {
	count(service_selects_nothing.violation) == 0 with input as review("shop", {"selector": {"app": "reviews"}})
		with data.inventory as inventory
}

test_selector_matching_pod_cronjob_rollout_allowed if {
	count(service_selects_nothing.violation) == 0 with input as review("shop", {"selector": {"app": "debug"}})
		with data.inventory as inventory
	count(service_selects_nothing.violation) == 0 with input as review("shop", {"selector": {"app": "report"}})
		with data.inventory as inventory
	count(service_selects_nothing.violation) == 0 with input as review("shop", {"selector": {"app": "ratings"}})
		with data.inventory as inventory
}

test_selector_matching_nothing_denied if {
	v := service_selects_nothing.violation with input as review("shop", {"selector": {"app": "reviews", "version": "v2"}})
		with data.inventory as inventory
	v == {{"msg": `spec.selector {"app": "reviews", "version": "v2"} matches no Pod or pod template in namespace "shop"`}}
}

test_workload_labels_are_not_pod_labels if {
	# team=shop is on the Deployment's metadata, not on its pods.
	count(service_selects_nothing.violation) == 1 with input as review("shop", {"selector": {"team": "shop"}})
		with data.inventory as inventory
}

test_service_without_selector_allowed if {
	count(service_selects_nothing.violation) == 0 with input as review("shop", {})
		with data.inventory as inventory
	count(service_selects_nothing.violation) == 0 with input as review("shop", {"selector": {}})
		with data.inventory as inventory
}

test_external_name_allowed if {
	count(service_selects_nothing.violation) == 0 with input as review("shop", {"type": "ExternalName", "externalName": "db.example.com", "selector": {"app": "db"}})
		with data.inventory as inventory
}

test_namespace_without_known_workloads_not_checked if {
	count(service_selects_nothing.violation) == 0 with input as review("empty", {"selector": {"app": "reviews"}})
		with data.inventory as inventory
}
