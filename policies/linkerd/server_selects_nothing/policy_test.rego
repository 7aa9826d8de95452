package mesh.linkerd.server_selects_nothing_test

import data.mesh.linkerd.server_selects_nothing
import rego.v1

deployment := {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop", "labels": {"team": "storefront"}},
	"spec": {
		"selector": {"matchLabels": {"app": "web"}},
		"template": {
			"metadata": {"labels": {"app": "web", "tier": "frontend"}},
			"spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"name": "http", "containerPort": 8080}]}]},
		},
	},
}

cronjob := {
	"apiVersion": "batch/v1", "kind": "CronJob",
	"metadata": {"name": "report", "namespace": "shop"},
	"spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {
		"metadata": {"labels": {"app": "report"}},
		"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "report", "image": "busybox", "ports": [{"name": "metrics", "containerPort": 9100}]}]},
	}}}},
}

inventory := {"namespace": {"shop": {
	"apps/v1": {"Deployment": {"web": deployment}},
	"batch/v1": {"CronJob": {"report": cronjob}},
}}}

review(ns, spec) := {"review": {
	"namespace": ns,
	"operation": "CREATE",
	"object": {
		"apiVersion": "policy.linkerd.io/v1beta3", "kind": "Server",
		"metadata": {"name": "web-http", "namespace": ns},
		"spec": spec,
	},
}}

test_match_labels_allowed if {
	count(server_selects_nothing.violation) == 0 with input as review("shop", {"podSelector": {"matchLabels": {"app": "web"}}, "port": "http"})
		with data.inventory as inventory
}

test_match_expressions_allowed if {
	spec := {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}, "port": 8080}
	count(server_selects_nothing.violation) == 0 with input as review("shop", spec)
		with data.inventory as inventory
}

test_cronjob_template_selected if {
	count(server_selects_nothing.violation) == 0 with input as review("shop", {"podSelector": {"matchLabels": {"app": "report"}}, "port": "metrics"})
		with data.inventory as inventory
}

test_label_typo_denied if {
	v := server_selects_nothing.violation with input as review("shop", {"podSelector": {"matchLabels": {"app": "wbe"}}, "port": "http"})
		with data.inventory as inventory
	v == {{"msg": `spec.podSelector {"matchLabels":{"app":"wbe"}} matches no Pod or pod template in namespace "shop"`}}
}

test_workload_metadata_labels_are_not_pod_labels if {
	# team=storefront is on the Deployment, not on its pods.
	count(server_selects_nothing.violation) == 1 with input as review("shop", {"podSelector": {"matchLabels": {"team": "storefront"}}, "port": 8080})
		with data.inventory as inventory
}

test_other_namespace_denied if {
	count(server_selects_nothing.violation) == 1 with input as review("other", {"podSelector": {"matchLabels": {"app": "web"}}, "port": 8080})
		with data.inventory as inventory
}

test_not_in_excludes_all_denied if {
	spec := {"podSelector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web", "report"]}]}, "port": 8080}
	count(server_selects_nothing.violation) == 1 with input as review("shop", spec)
		with data.inventory as inventory
}

test_unknown_port_name_denied if {
	v := server_selects_nothing.violation with input as review("shop", {"podSelector": {"matchLabels": {"app": "web"}}, "port": "grpc"})
		with data.inventory as inventory
	v == {{"msg": `spec.port "grpc" names no container port of the 1 selected pod template(s) or Pod(s)`}}
}

test_numeric_port_not_checked if {
	count(server_selects_nothing.violation) == 0 with input as review("shop", {"podSelector": {"matchLabels": {"app": "web"}}, "port": 9999})
		with data.inventory as inventory
}

test_pod_selected if {
	pod := {
		"apiVersion": "v1", "kind": "Pod",
		"metadata": {"name": "debug", "namespace": "tools", "labels": {"app": "debug"}},
		"spec": {"containers": [{"name": "debug", "image": "busybox", "ports": [{"name": "admin", "containerPort": 9990}]}]},
	}
	count(server_selects_nothing.violation) == 0 with input as review("tools", {"podSelector": {"matchLabels": {"app": "debug"}}, "port": "admin"})
		with data.inventory as {"namespace": {"tools": {"v1": {"Pod": {"debug": pod}}}}}
}

test_external_workload_server_not_checked if {
	spec := {"externalWorkloadSelector": {"matchLabels": {"app": "legacy"}}, "port": 8080}
	count(server_selects_nothing.violation) == 0 with input as review("shop", spec)
		with data.inventory as inventory
}
