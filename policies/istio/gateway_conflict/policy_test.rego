package mesh.istio.gateway_conflict_test

import data.mesh.istio.gateway_conflict
import rego.v1

gateway(ns, name, selector, servers) := {
	"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"selector": selector, "servers": servers},
}

ingress := {"istio": "ingressgateway"}

https(name, hosts, credential) := {
	"port": {"number": 443, "name": name, "protocol": "HTTPS"},
	"hosts": hosts,
	"tls": {"mode": "SIMPLE", "credentialName": credential},
}

http(name, hosts) := {"port": {"number": 80, "name": name, "protocol": "HTTP"}, "hosts": hosts}

redirect(name, hosts) := object.union(http(name, hosts), {"tls": {"httpsRedirect": true}})

tcp(name, number) := {"port": {"number": number, "name": name, "protocol": "TCP"}, "hosts": ["*"]}

review(gw) := {"review": {
	"namespace": gw.metadata.namespace,
	"operation": "CREATE",
	"object": gw,
}}

# The inventory holds every given Gateway, as the scan and the webhook see them.
inventory(gateways) := {"namespace": {ns: {"networking.istio.io/v1": {"Gateway": {gw.metadata.name: gw |
	some gw in gateways
	gw.metadata.namespace == ns
}}} |
	some g in gateways
	ns := g.metadata.namespace
}}

shop := gateway("shop", "shop", ingress, [
	redirect("http", ["shop.example.com"]),
	https("https", ["shop.example.com"], "shop-cert"),
])

test_distinct_hosts_allowed if {
	blog := gateway("blog", "blog", ingress, [
		redirect("http", ["*.blog.example.com"]),
		https("https", ["*.blog.example.com"], "blog-cert"),
	])
	count(gateway_conflict.violation) == 0 with input as review(shop) with data.inventory as inventory([shop, blog])
}

test_wildcard_and_specific_tls_hosts_allowed if {
	# SNI picks the most specific host: these do not conflict.
	wildcard := gateway("edge", "wildcard", ingress, [https("https", ["*.example.com"], "wildcard-cert")])
	count(gateway_conflict.violation) == 0 with input as review(shop) with data.inventory as inventory([shop, wildcard])
}

test_plaintext_http_merges if {
	a := gateway("a", "a", ingress, [http("http", ["*"])])
	b := gateway("b", "b", ingress, [http("http", ["*"]), {"port": {"number": 80, "name": "grpc", "protocol": "GRPC"}, "hosts": ["api.example.com"]}])
	count(gateway_conflict.violation) == 0 with input as review(a) with data.inventory as inventory([a, b])
	count(gateway_conflict.violation) == 0 with input as review(b) with data.inventory as inventory([a, b])
}

test_other_workload_or_bind_allowed if {
	internal := gateway("shop", "internal", {"istio": "internal-gateway"}, [https("https", ["shop.example.com"], "shop-cert")])
	bound := gateway("shop", "bound", ingress, [object.union(https("https", ["shop.example.com"], "shop-cert"), {"bind": "10.0.0.10"})])
	count(gateway_conflict.violation) == 0 with input as review(shop) with data.inventory as inventory([shop, internal, bound])
}

test_update_does_not_conflict_with_itself if {
	count(gateway_conflict.violation) == 0 with input as review(shop) with data.inventory as inventory([shop])
}

test_duplicate_tls_host_denied if {
	copy := gateway("shop-v2", "shop", ingress, [https("https", ["shop.example.com", "api.example.com"], "shop-cert-2025")])
	v := gateway_conflict.violation with input as review(shop) with data.inventory as inventory([shop, copy])
	v == {{"msg": "spec.servers[1] (port 443) and Gateway shop-v2/shop spec.servers[0] both set tls for host(s) shop.example.com on workload istio=ingressgateway; Istio serves a host once per port and drops one of the servers"}}
}

test_duplicate_host_with_namespace_prefix_denied if {
	copy := gateway("shop-v2", "copy", ingress, [https("https", ["./shop.example.com"], "shop-cert")])
	count(gateway_conflict.violation) == 1 with input as review(copy) with data.inventory as inventory([shop, copy])
}

test_duplicate_redirect_host_denied if {
	other := gateway("shop", "legacy", ingress, [redirect("http-legacy", ["shop.example.com", "old.example.com"])])
	v := gateway_conflict.violation with input as review(other) with data.inventory as inventory([shop, other])
	v == {{"msg": "spec.servers[0] (port 80) and Gateway shop/shop spec.servers[0] both set tls for host(s) shop.example.com on workload istio=ingressgateway; Istio serves a host once per port and drops one of the servers"}}
}

test_tcp_next_to_http_denied if {
	db := gateway("data", "db", ingress, [tcp("tcp-db", 80)])
	v := gateway_conflict.violation with input as review(db) with data.inventory as inventory([shop, db])
	v == {{"msg": "spec.servers[0] (port 80, plaintext TCP) and Gateway shop/shop spec.servers[0] (plaintext HTTP) share a listener on workload istio=ingressgateway; Istio merges servers on one port only when all are plaintext HTTP or all use TLS, and drops the other"}}
}

test_two_tcp_servers_denied if {
	a := gateway("data", "postgres", ingress, [tcp("tcp-pg", 5432)])
	b := gateway("data", "postgres-replica", ingress, [tcp("tcp-pg", 5432)])
	count(gateway_conflict.violation) == 1 with input as review(a) with data.inventory as inventory([a, b])
}

test_plaintext_next_to_tls_denied if {
	plain := gateway("blog", "blog", ingress, [{"port": {"number": 443, "name": "http-alt", "protocol": "HTTP"}, "hosts": ["blog.example.com"]}])
	v := gateway_conflict.violation with input as review(plain) with data.inventory as inventory([shop, plain])
	v == {{"msg": "spec.servers[0] (port 443, plaintext HTTP) and Gateway shop/shop spec.servers[1] (HTTPS with TLS) share a listener on workload istio=ingressgateway; Istio merges servers on one port only when all are plaintext HTTP or all use TLS, and drops the other"}}
}

test_servers_of_one_gateway_reported_once if {
	gw := gateway("shop", "shop", ingress, [
		https("https-a", ["shop.example.com"], "shop-cert"),
		https("https-b", ["shop.example.com"], "shop-cert-new"),
	])
	v := gateway_conflict.violation with input as review(gw) with data.inventory as inventory([gw])
	v == {{"msg": "spec.servers[0] (port 443) and spec.servers[1] of this Gateway both set tls for host(s) shop.example.com on workload istio=ingressgateway; Istio serves a host once per port and drops one of the servers"}}
}

test_contained_selector_denied if {
	# Every pod with istio=ingressgateway,tier=edge runs both Gateways.
	edge := gateway("data", "edge", {"istio": "ingressgateway", "tier": "edge"}, [tcp("tcp-db", 80)])
	v := gateway_conflict.violation with input as review(edge) with data.inventory as inventory([shop, edge])
	v == {{"msg": "spec.servers[0] (port 80, plaintext TCP) and Gateway shop/shop spec.servers[0] (plaintext HTTP) share a listener on workload istio=ingressgateway,tier=edge; Istio merges servers on one port only when all are plaintext HTTP or all use TLS, and drops the other"}}
	count(gateway_conflict.violation) == 1 with input as review(shop) with data.inventory as inventory([shop, edge])
}

test_crossing_selectors_allowed if {
	edge := gateway("data", "edge", {"tier": "edge"}, [tcp("tcp-db", 80)])
	count(gateway_conflict.violation) == 0 with input as review(edge) with data.inventory as inventory([shop, edge])
}
