package mesh.istio.virtualservice_host_test

import data.mesh.istio.virtualservice_host
import rego.v1

inventory := {"namespace": {"shop": {"v1": {"Service": {"reviews": {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": "reviews", "namespace": "shop"},
	"spec": {"ports": [{"name": "http", "port": 9080}]},
}}}}}}

review(spec) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": {"name": "vs", "namespace": "shop"},
		"spec": spec,
	},
}}

test_known_short_host_allowed if {
	count(virtualservice_host.violation) == 0 with input as review({"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}}]}]})
		with data.inventory as inventory
}

test_fqdn_host_allowed if {
	count(virtualservice_host.violation) == 0 with input as review({"hosts": ["reviews.shop.svc.cluster.local"]})
		with data.inventory as inventory
}

test_unknown_host_denied if {
	v := virtualservice_host.violation with input as review({"hosts": ["ratings"]})
		with data.inventory as inventory
	v == {{"msg": `host "ratings" matches no Service or ServiceEntry (resolved as "ratings.shop.svc.cluster.local")`}}
}

test_short_name_resolves_in_own_namespace if {
	# reviews exists in shop, not in other: the same short name fails there.
	in_other := json.patch(review({"hosts": ["reviews"]}), [{"op": "replace", "path": "/review/namespace", "value": "other"}])
	count(virtualservice_host.violation) == 1 with input as in_other
		with data.inventory as inventory
}

test_unknown_destination_denied if {
	v := virtualservice_host.violation with input as review({"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "ratings"}}]}]})
		with data.inventory as inventory
	v == {{"msg": `spec.http[0].route[0]: destination host "ratings" matches no Service or ServiceEntry`}}
}

test_service_entry_host_allowed if {
	se_inventory := object.union(inventory, {"namespace": {"shop": {"networking.istio.io/v1": {"ServiceEntry": {"ext": {
		"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
		"metadata": {"name": "ext", "namespace": "shop"},
		"spec": {"hosts": ["*.example.com"]},
	}}}}}})
	count(virtualservice_host.violation) == 0 with input as review({"hosts": ["api.example.com"], "http": [{"route": [{"destination": {"host": "api.example.com"}}]}]})
		with data.inventory as se_inventory
}

test_gateway_only_hosts_not_checked if {
	count(virtualservice_host.violation) == 0 with input as review({"hosts": ["www.example.com"], "gateways": ["public"]})
		with data.inventory as inventory
}

test_every_way_a_host_is_known if {
	# istio.known_host: a wildcard, a Service, a ServiceEntry host exactly,
	# a ServiceEntry wildcard; and a host none of them knows.
	se_inventory := object.union(inventory, {"namespace": {"shop": {"networking.istio.io/v1": {"ServiceEntry": {"ext": {
		"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
		"metadata": {"name": "ext", "namespace": "shop"},
		"spec": {"hosts": ["db.example.org", "*.example.com"]},
	}}}}}})
	v := virtualservice_host.violation with input as review({"hosts": ["*.shop.svc.cluster.local", "reviews", "db.example.org", "api.example.com", "db.example.net"]})
		with data.inventory as se_inventory
	v == {{"msg": `host "db.example.net" matches no Service or ServiceEntry (resolved as "db.example.net")`}}
}
