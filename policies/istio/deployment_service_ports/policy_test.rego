package mesh.istio.deployment_service_ports_test

import data.mesh.istio.deployment_service_ports
import rego.v1

deployment := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": "dns", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "dns"}}}},
}}}

service(name, ports) := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "shop"}, "spec": {"selector": {"app": "dns"}, "ports": ports}}

inventory(labels, services) := {
	"cluster": {"v1": {"Namespace": {"shop": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}}}}},
	"namespace": {"shop": {"v1": {"Service": {s.metadata.name: s | some s in services}}}},
}

meshed := {"istio-injection": "enabled"}

test_one_protocol_per_port_allowed if {
	inv := inventory(meshed, [service("a", [{"port": 53, "protocol": "UDP"}]), service("b", [{"port": 8080, "targetPort": 8080}])])
	count(deployment_service_ports.violation) == 0 with input as deployment with data.inventory as inv
}

test_two_protocols_denied if {
	inv := inventory(meshed, [service("dns-udp", [{"port": 53, "protocol": "UDP"}]), service("dns-tcp", [{"port": 53}])])
	v := deployment_service_ports.violation with input as deployment with data.inventory as inv
	v == {{"msg": "port 53 has protocols TCP, UDP in Services dns-tcp, dns-udp, which select these pods: the sidecar uses one of them"}}
}

test_one_target_port_two_ports_denied if {
	inv := inventory(meshed, [service("a", [{"port": 9080, "targetPort": 9080}]), service("b", [{"port": 9090, "targetPort": 9080}])])
	v := deployment_service_ports.violation with input as deployment with data.inventory as inv
	v == {{"msg": "targetPort 9080 is behind service ports 9080, 9090 (Services a, b): the sidecar configures the pod port for one of them"}}
}

test_outside_the_mesh_not_judged if {
	inv := inventory({}, [service("dns-udp", [{"port": 53, "protocol": "UDP"}]), service("dns-tcp", [{"port": 53}])])
	count(deployment_service_ports.violation) == 0 with input as deployment with data.inventory as inv
}
