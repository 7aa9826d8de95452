package mesh.istio.gateway_service_port_test

import data.mesh.istio.gateway_service_port
import rego.v1

gw(selector, ports) := {
	"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
	"metadata": {"name": "public", "namespace": "shop"},
	"spec": {"selector": selector, "servers": [{"port": {"number": p, "name": sprintf("http-%d", [p]), "protocol": "HTTP"}, "hosts": ["*"]} | some p in ports]},
}

pod(labels) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gw-1", "namespace": "gateways", "labels": labels}}

service(name, selector, ports) := {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": name, "namespace": "gateways"},
	"spec": {"selector": selector, "ports": ports},
}

inventory(pods, services) := {"namespace": {"gateways": {"v1": {
	"Pod": {p.metadata.name: p | some p in pods},
	"Service": {s.metadata.name: s | some s in services},
}}}}

review(obj) := {"review": {"namespace": "shop", "operation": "CREATE", "object": obj}}

private := {"app": "private-gateway"}

test_port_and_target_port_allowed if {
	inv := inventory([pod(private)], [service("private", private, [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}])])
	count(gateway_service_port.violation) == 0 with input as review(gw(private, [80, 8080])) with data.inventory as inv
}

test_port_not_exposed_denied if {
	inv := inventory([pod(private)], [service("private", private, [{"name": "http", "port": 80, "targetPort": 8080}])])
	v := gateway_service_port.violation with input as review(gw(private, [80, 8004])) with data.inventory as inv
	v == {{"msg": "spec.servers[1].port.number 8004 is not a port or targetPort of the Services selecting the gateway's pods (gateways/private: 80, 8080)"}}
}

test_udp_ports_do_not_count if {
	inv := inventory([pod(private)], [service("private", private, [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "http", "port": 80}])])
	count(gateway_service_port.violation) == 1 with input as review(gw(private, [53])) with data.inventory as inv
}

test_service_of_other_pods_does_not_count if {
	inv := inventory([pod(private)], [service("other", {"app": "other"}, [{"name": "http", "port": 8004}])])
	# No Service selects the gateway's pods: not judged.
	count(gateway_service_port.violation) == 0 with input as review(gw(private, [8004])) with data.inventory as inv
}

test_no_workload_not_judged if {
	count(gateway_service_port.violation) == 0 with input as review(gw(private, [8004])) with data.inventory as inventory([], [])
}

test_default_ingress_gateway_assumed if {
	ingress := {"istio": "ingressgateway"}
	count(gateway_service_port.violation) == 0 with input as review(gw(ingress, [80, 443])) with data.inventory as inventory([], [])
	v := gateway_service_port.violation with input as review(gw(ingress, [80, 8004])) with data.inventory as inventory([], [])
	v == {{"msg": "spec.servers[1].port.number 8004 is not a port or targetPort of the Services selecting the gateway's pods (istio-system/istio-ingressgateway (assumed): 80, 443, 8080, 8443, 15021, 15443, 31400)"}}
}

test_named_target_port_keeps_its_port if {
	# A named targetPort has no number here: the Service's port still counts.
	inv := inventory([pod(private)], [service("private", private, [{"name": "http", "port": 8004, "targetPort": "http"}])])
	count(gateway_service_port.violation) == 0 with input as review(gw(private, [8004])) with data.inventory as inv
}
