package mesh.linkerd.opaque_ports_conflict_test

import data.mesh.linkerd.opaque_ports_conflict
import rego.v1

deployment(name, annotations, ports) := {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": {
		"selector": {"matchLabels": {"app": name}},
		"template": {
			"metadata": {"labels": {"app": name}, "annotations": annotations},
			"spec": {"containers": [{"name": name, "image": "example", "ports": ports}]},
		},
	},
}

mysql_ports := [{"name": "mysql", "containerPort": 3306}]

inventory(deployments, ns_annotations) := {
	"cluster": {"v1": {"Namespace": {"shop": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "annotations": ns_annotations}}}}},
	"namespace": {"shop": {"apps/v1": {"Deployment": {d.metadata.name: d | some d in deployments}}}},
}

service(name, annotations, ports) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "v1", "kind": "Service",
		"metadata": {"name": name, "namespace": "shop", "annotations": annotations},
		"spec": {"selector": {"app": name}, "ports": ports},
	},
}}

opaque(ports) := {"config.linkerd.io/opaque-ports": ports}

test_both_sides_agree_allowed if {
	count(opaque_ports_conflict.violation) == 0 with input as service("mysql", opaque("3306"), [{"port": 3306}])
		with data.inventory as inventory([deployment("mysql", opaque("3306"), mysql_ports)], {})
}

test_service_opaque_workload_not_denied if {
	v := opaque_ports_conflict.violation with input as service("mysql", opaque("3306"), [{"name": "mysql", "port": 3306}])
		with data.inventory as inventory([deployment("mysql", opaque("8080"), mysql_ports)], {})
	v == {{"msg": `spec.ports[0] (port 3306, targetPort 3306) is opaque for the Service (its config.linkerd.io/opaque-ports "3306") but not for Deployment "mysql" (pod template config.linkerd.io/opaque-ports "8080"): its proxy still runs protocol detection`}}
}

test_workload_opaque_service_not_denied if {
	v := opaque_ports_conflict.violation with input as service("nats", {}, [{"name": "client", "port": 4222}])
		with data.inventory as inventory([deployment("nats", opaque("4222"), [{"name": "client", "containerPort": 4222}])], {})
	v == {{"msg": `spec.ports[0] (port 4222, targetPort 4222) is opaque for Deployment "nats" (pod template config.linkerd.io/opaque-ports "4222") but not for the Service (Linkerd's default opaque ports): meshed clients still run protocol detection`}}
}

test_default_list_on_service_overridden_on_pods_denied if {
	# 3306 is opaque by default for the Service, but the pods replace the default list.
	count(opaque_ports_conflict.violation) == 1 with input as service("mysql", {}, [{"port": 3306}])
		with data.inventory as inventory([deployment("mysql", opaque("9090"), mysql_ports)], {})
}

test_app_protocol_marks_service_side if {
	ports := [{"name": "client", "port": 4222, "appProtocol": "linkerd.io/opaque"}]
	count(opaque_ports_conflict.violation) == 0 with input as service("nats", {}, ports)
		with data.inventory as inventory([deployment("nats", opaque("4222"), [{"name": "client", "containerPort": 4222}])], {})
}

test_namespace_annotation_covers_both_allowed if {
	count(opaque_ports_conflict.violation) == 0 with input as service("nats", {}, [{"port": 4222}])
		with data.inventory as inventory([deployment("nats", {}, [{"name": "client", "containerPort": 4222}])], opaque("4222"))
}

test_namespace_annotation_on_workload_side_denied if {
	v := opaque_ports_conflict.violation with input as service("nats", opaque("8222"), [{"port": 4222}])
		with data.inventory as inventory([deployment("nats", {}, [{"name": "client", "containerPort": 4222}])], opaque("4222"))
	v == {{"msg": `spec.ports[0] (port 4222, targetPort 4222) is opaque for Deployment "nats" (namespace "shop"'s config.linkerd.io/opaque-ports "4222") but not for the Service (its config.linkerd.io/opaque-ports "8222"): meshed clients still run protocol detection`}}
}

test_workload_without_annotation_not_checked if {
	count(opaque_ports_conflict.violation) == 0 with input as service("mysql", opaque("3306"), [{"port": 3306}])
		with data.inventory as inventory([deployment("mysql", {}, mysql_ports)], {})
}

test_service_port_maps_to_target_port if {
	# Service port 3306 forwards to container port 13306: the annotations use each side's own numbers.
	ports := [{"port": 3306, "targetPort": 13306}]
	count(opaque_ports_conflict.violation) == 0 with input as service("mysql", opaque("3306"), ports)
		with data.inventory as inventory([deployment("mysql", opaque("13306"), [{"containerPort": 13306}])], {})
	count(opaque_ports_conflict.violation) == 1 with input as service("mysql", opaque("3306"), ports)
		with data.inventory as inventory([deployment("mysql", opaque("3306"), [{"containerPort": 13306}])], {})
}

test_named_target_port_and_named_annotation if {
	ports := [{"port": 3306, "targetPort": "mysql"}]
	count(opaque_ports_conflict.violation) == 0 with input as service("mysql", opaque("3306"), ports)
		with data.inventory as inventory([deployment("mysql", opaque("mysql"), mysql_ports)], {})
}

test_ranges if {
	count(opaque_ports_conflict.violation) == 0 with input as service("mysql", opaque("3000-4000"), [{"port": 3306}])
		with data.inventory as inventory([deployment("mysql", opaque("3300-3310, 8080"), mysql_ports)], {})
}

test_unparseable_annotation_not_compared if {
	count(opaque_ports_conflict.violation) == 0 with input as service("mysql", opaque("3306"), [{"port": 3306}])
		with data.inventory as inventory([deployment("mysql", opaque("mysql-admin"), mysql_ports)], {})
}

test_empty_annotation_clears_the_list if {
	count(opaque_ports_conflict.violation) == 1 with input as service("mysql", opaque("3306"), [{"port": 3306}])
		with data.inventory as inventory([deployment("mysql", opaque(""), mysql_ports)], {})
}

test_udp_ports_ignored if {
	count(opaque_ports_conflict.violation) == 0 with input as service("dns", opaque("53"), [{"port": 53, "protocol": "UDP"}])
		with data.inventory as inventory([deployment("dns", opaque(""), [{"containerPort": 53, "protocol": "UDP"}])], {})
}

test_unselected_workload_ignored if {
	count(opaque_ports_conflict.violation) == 0 with input as service("mysql", opaque("3306"), [{"port": 3306}])
		with data.inventory as inventory([deployment("web", opaque("8080"), [{"containerPort": 3306}])], {})
}
