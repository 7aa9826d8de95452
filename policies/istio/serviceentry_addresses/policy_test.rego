package mesh.istio.serviceentry_addresses_test

import data.mesh.istio.serviceentry_addresses
import rego.v1

review(spec) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
	"metadata": {"name": "db", "namespace": "shop"},
	"spec": object.union({"hosts": ["db.example.com"], "resolution": "DNS"}, spec),
}}}

mesh(metadata) := {"namespace": {"istio-system": {"v1": {"ConfigMap": {"istio": {
	"apiVersion": "v1", "kind": "ConfigMap",
	"metadata": {"name": "istio", "namespace": "istio-system"},
	"data": {"mesh": yaml.marshal({"defaultConfig": {"proxyMetadata": metadata}})},
}}}}}}

test_http_and_addresses_allowed if {
	count(serviceentry_addresses.violation) == 0 with input as review({"ports": [{"number": 443, "name": "https", "protocol": "TLS"}]})
	count(serviceentry_addresses.violation) == 0 with input as review({"addresses": ["10.1.2.3"], "ports": [{"number": 5432, "name": "tcp", "protocol": "TCP"}]})
}

test_tcp_without_addresses_denied if {
	v := serviceentry_addresses.violation with input as review({"ports": [{"number": 5432, "name": "tcp", "protocol": "TCP"}, {"number": 6379, "name": "redis"}]})
	v == {
		{"msg": "spec.ports[0] (5432, TCP) is TCP and the ServiceEntry has no spec.addresses: sidecars cannot tell its traffic from other TCP traffic on port 5432"},
		{"msg": "spec.ports[1] (6379, no protocol) is TCP and the ServiceEntry has no spec.addresses: sidecars cannot tell its traffic from other TCP traffic on port 6379"},
	}
}

test_auto_allocation_allowed if {
	spec := {"ports": [{"number": 5432, "name": "tcp", "protocol": "TCP"}]}
	count(serviceentry_addresses.violation) == 0 with input as review(spec)
		with data.inventory as mesh({"ISTIO_META_DNS_CAPTURE": "true", "ISTIO_META_DNS_AUTO_ALLOCATE": "true"})
	count(serviceentry_addresses.violation) == 1 with input as review(spec)
		with data.inventory as mesh({"ISTIO_META_DNS_CAPTURE": "true"})
}

test_allocated_in_status_allowed if {
	r := json.patch(review({"ports": [{"number": 22, "name": "tcp", "protocol": "TCP"}]}), [{"op": "add", "path": "/review/object/status", "value": {"addresses": [{"host": "db.example.com", "value": "240.240.0.1"}]}}])
	count(serviceentry_addresses.violation) == 0 with input as r
}
