package mesh.istio.destination_port_missing_test

import data.mesh.istio.destination_port_missing as port_missing
import rego.v1

service(ns, name, ports) := {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"selector": {"app": name}, "ports": [{"name": sprintf("http-%d", [p]), "port": p} | some p in ports]},
}

inventory := {"namespace": {
	"shop": {"v1": {"Service": {
		"web": service("shop", "web", [8080, 9090]),
		"api": service("shop", "api", [8080]),
		"dns": {
			"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dns", "namespace": "shop"},
			"spec": {"ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]},
		},
	}}},
	"egress": {"networking.istio.io/v1": {"ServiceEntry": {"payments": {
		"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
		"metadata": {"name": "payments", "namespace": "egress"},
		"spec": {"hosts": ["api.payments.example.com"], "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}, {"number": 443, "name": "tls", "protocol": "TLS"}], "resolution": "DNS"},
	}}}},
}}

review(spec) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": {"name": "vs", "namespace": "shop"},
		"spec": spec,
	},
}}

route(dest) := [{"route": [{"destination": dest}], "timeout": "5s"}]

test_port_given_allowed if {
	count(port_missing.violation) == 0 with input as review({"hosts": ["www.example.com"], "gateways": ["istio-ingress/public"], "http": route({"host": "web", "port": {"number": 8080}})})
		with data.inventory as inventory
}

test_single_port_service_allowed if {
	count(port_missing.violation) == 0 with input as review({"hosts": ["www.example.com"], "gateways": ["istio-ingress/public"], "http": route({"host": "api"})})
		with data.inventory as inventory
}

test_same_port_number_twice_is_one_port if {
	count(port_missing.violation) == 0 with input as review({"hosts": ["dns.example.com"], "gateways": ["istio-ingress/public"], "tcp": [{"route": [{"destination": {"host": "dns"}}]}]})
		with data.inventory as inventory
}

test_gateway_route_to_multi_port_service_denied if {
	v := port_missing.violation with input as review({"hosts": ["www.example.com"], "gateways": ["istio-ingress/public"], "http": route({"host": "web"})})
		with data.inventory as inventory
	v == {{"msg": `spec.http[0].route[0]: destination "web" has no port.number but Service shop/web exposes ports 8080, 9090`}}
}

test_sidecar_route_to_own_host_allowed if {
	# Sidecars build the route once per port of web: the listener port exists.
	count(port_missing.violation) == 0 with input as review({"hosts": ["web"], "http": route({"host": "web.shop.svc.cluster.local"})})
		with data.inventory as inventory
	count(port_missing.violation) == 0 with input as review({"hosts": ["api"], "gateways": ["mesh"], "http": route({"host": "web"})})
		with data.inventory as inventory
}

test_sidecar_route_to_service_exposing_every_port_allowed if {
	# Requests to api:8080 and web:8080/9090 all find the port on web.
	count(port_missing.violation) == 0 with input as review({"hosts": ["api", "web"], "http": route({"host": "web"})})
		with data.inventory as inventory
}

test_sidecar_route_to_service_missing_a_port_denied if {
	# Requests to web:9090 would go to payments-v2:9090, which does not exist.
	inv := object.union(inventory, {"namespace": {"shop": {"v1": {"Service": {"payments-v2": service("shop", "payments-v2", [8080, 8443])}}}}})
	v := port_missing.violation with input as review({"hosts": ["web"], "http": [{"route": [{"destination": {"host": "api"}, "weight": 50}, {"destination": {"host": "payments-v2"}, "weight": 50}], "timeout": "5s"}]})
		with data.inventory as inv
	v == {{"msg": `spec.http[0].route[1]: destination "payments-v2" has no port.number but Service shop/payments-v2 exposes ports 8080, 8443`}}
}

test_mesh_and_gateway_bound_denied if {
	count(port_missing.violation) == 1 with input as review({"hosts": ["web"], "gateways": ["mesh", "istio-ingress/public"], "http": route({"host": "web"})})
		with data.inventory as inventory
}

test_service_entry_and_mirror_checked if {
	spec := {
		"hosts": ["api.payments.example.com"],
		"gateways": ["mesh", "egress/egressgateway"],
		"http": [{
			"route": [{"destination": {"host": "api.payments.example.com", "port": {"number": 443}}}],
			"mirror": {"host": "api.payments.example.com"},
			"timeout": "5s",
		}],
	}
	v := port_missing.violation with input as review(spec)
		with data.inventory as inventory
	v == {{"msg": `spec.http[0].mirror: destination "api.payments.example.com" has no port.number but ServiceEntry egress/payments exposes ports 80, 443`}}
}

test_unknown_host_not_checked if {
	count(port_missing.violation) == 0 with input as review({"hosts": ["www.example.com"], "gateways": ["istio-ingress/public"], "http": route({"host": "nowhere"})})
		with data.inventory as inventory
}
