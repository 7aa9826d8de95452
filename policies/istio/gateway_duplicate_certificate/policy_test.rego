package mesh.istio.gateway_duplicate_certificate_test

import data.mesh.istio.gateway_duplicate_certificate
import rego.v1

gateway(ns, name, selector, servers) := {
	"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"selector": selector, "servers": servers},
}

ingress := {"istio": "ingressgateway"}

https(name, hosts, tls) := {
	"port": {"number": 443, "name": name, "protocol": "HTTPS"},
	"hosts": hosts,
	"tls": object.union({"mode": "SIMPLE"}, tls),
}

review(gw) := {"review": {
	"namespace": gw.metadata.namespace,
	"operation": "CREATE",
	"object": gw,
}}

inventory(gateways) := {"namespace": {ns: {"networking.istio.io/v1": {"Gateway": {gw.metadata.name: gw |
	some gw in gateways
	gw.metadata.namespace == ns
}}} |
	some g in gateways
	ns := g.metadata.namespace
}}

gateway_a := gateway("default", "gateway-a", ingress, [https("https", ["a.example.com"], {"credentialName": "example-com-cert"})])

gateway_b := gateway("default", "gateway-b", ingress, [https("https", ["b.example.com"], {"credentialName": "example-com-cert"})])

test_distinct_certificates_allowed if {
	b := gateway("default", "gateway-b", ingress, [https("https", ["b.example.com"], {"credentialName": "b-example-com-cert"})])
	count(gateway_duplicate_certificate.violation) == 0 with input as review(gateway_a) with data.inventory as inventory([gateway_a, b])
}

test_one_server_for_all_hosts_allowed if {
	gw := gateway("default", "example", ingress, [
		https("https", ["a.example.com", "b.example.com"], {"credentialName": "example-com-cert"}),
		{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["a.example.com", "b.example.com"], "tls": {"httpsRedirect": true}},
	])
	count(gateway_duplicate_certificate.violation) == 0 with input as review(gw) with data.inventory as inventory([gw])
}

test_other_port_or_workload_allowed if {
	other_port := gateway("default", "admin", ingress, [object.union(
		https("https-admin", ["admin.example.com"], {"credentialName": "example-com-cert"}),
		{"port": {"number": 8443}},
	)])
	other_workload := gateway("default", "internal", {"istio": "internal-gateway"}, [https("https", ["b.example.com"], {"credentialName": "example-com-cert"})])
	count(gateway_duplicate_certificate.violation) == 0 with input as review(gateway_a) with data.inventory as inventory([gateway_a, other_port, other_workload])
}

test_passthrough_and_istio_mutual_allowed if {
	passthrough := gateway("default", "passthrough", ingress, [{
		"port": {"number": 443, "name": "tls", "protocol": "TLS"},
		"hosts": ["db.example.com"],
		"tls": {"mode": "PASSTHROUGH"},
	}])
	count(gateway_duplicate_certificate.violation) == 0 with input as review(passthrough) with data.inventory as inventory([gateway_a, passthrough])
}

test_same_credential_in_two_gateways_denied if {
	v := gateway_duplicate_certificate.violation with input as review(gateway_a) with data.inventory as inventory([gateway_a, gateway_b])
	v == {{"msg": `spec.servers[0] (port 443, hosts a.example.com) presents the same certificate (credentialName "example-com-cert") as Gateway default/gateway-b spec.servers[0] (hosts b.example.com); clients reusing an HTTP/2 connection across these hosts get 404 from the gateway`}}
	count(gateway_duplicate_certificate.violation) == 1 with input as review(gateway_b) with data.inventory as inventory([gateway_a, gateway_b])
}

test_subset_selector_in_other_namespace_denied if {
	# {istio: ingressgateway} selects every pod {istio: ingressgateway, app: x}
	# selects: the finding is on the broader Gateway, as istioctl reports it.
	b := gateway("team-b", "gateway-b", {"istio": "ingressgateway", "app": "istio-ingressgateway"}, gateway_b.spec.servers)
	count(gateway_duplicate_certificate.violation) == 1 with input as review(gateway_a) with data.inventory as inventory([gateway_a, b])
	count(gateway_duplicate_certificate.violation) == 0 with input as review(b) with data.inventory as inventory([gateway_a, b])
}

test_same_file_certificate_denied if {
	files := {"serverCertificate": "/etc/istio/ingressgateway-certs/tls.crt", "privateKey": "/etc/istio/ingressgateway-certs/tls.key"}
	gw := gateway("default", "legacy", ingress, [
		https("https-a", ["a.example.com"], files),
		https("https-b", ["b.example.com"], files),
	])
	v := gateway_duplicate_certificate.violation with input as review(gw) with data.inventory as inventory([gw])
	v == {{"msg": `spec.servers[0] (port 443, hosts a.example.com) presents the same certificate (serverCertificate "/etc/istio/ingressgateway-certs/tls.crt") as spec.servers[1] of this Gateway (hosts b.example.com); clients reusing an HTTP/2 connection across these hosts get 404 from the gateway`}}
}

test_identical_hosts_left_to_gateway_conflict if {
	# Same certificate and same hosts is a conflicting server, not a 404 risk.
	copy := gateway("default", "gateway-a-copy", ingress, gateway_a.spec.servers)
	count(gateway_duplicate_certificate.violation) == 0 with input as review(gateway_a) with data.inventory as inventory([gateway_a, copy])
}
