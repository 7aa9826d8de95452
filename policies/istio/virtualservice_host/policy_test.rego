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
	# Exported everywhere: no namespaces to name.
	w := virtualservice_host.violation with input as review({"hosts": ["reviews"], "exportTo": ["*"], "http": [{"route": [{"destination": {"host": "ratings"}}]}]})
		with data.inventory as inventory
	w == v
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

service_entry(ns, name, spec) := {"namespace": {ns: {"networking.istio.io/v1": {"ServiceEntry": {name: {
	"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
	"metadata": {"name": name, "namespace": ns},
	"spec": spec,
}}}}}}

test_service_entry_exported_elsewhere_is_not_known if {
	# A catch-all ServiceEntry exported only to its own namespace makes no
	# host known in shop (the issue of Istio's analyzer tests).
	inv := object.union(inventory, service_entry("other", "all", {"hosts": ["*"], "exportTo": ["."]}))
	v := virtualservice_host.violation with input as review({"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "ratings.example.com"}}]}]})
		with data.inventory as inv
	v == {{"msg": `spec.http[0].route[0]: destination host "ratings.example.com" matches no Service or ServiceEntry`}}
}

test_service_entry_exported_here_is_known if {
	inv := object.union(inventory, service_entry("other", "ratings", {"hosts": ["ratings.example.com"], "exportTo": ["shop"]}))
	count(virtualservice_host.violation) == 0 with input as review({"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "ratings.example.com"}}]}]})
		with data.inventory as inv
}

test_service_exported_elsewhere_is_not_known if {
	inv := {"namespace": {"catalog": {"v1": {"Service": {"details": {
		"apiVersion": "v1", "kind": "Service",
		"metadata": {"name": "details", "namespace": "catalog", "annotations": {"networking.istio.io/exportTo": "., banana"}},
		"spec": {"ports": [{"name": "http", "port": 9080}]},
	}}}}}}
	dest := {"hosts": ["details.catalog.svc.cluster.local"], "http": [{"route": [{"destination": {"host": "details.catalog.svc.cluster.local"}}]}]}
	count(virtualservice_host.violation) == 2 with input as review(dest) with data.inventory as inv
	# A VirtualService exported to banana looks the host up there.
	count(virtualservice_host.violation) == 0 with input as review(object.union(dest, {"exportTo": ["banana"]})) with data.inventory as inv
}

test_export_to_scopes_the_lookup if {
	v := virtualservice_host.violation with input as review({"exportTo": ["bogus"], "http": [{"route": [{"destination": {"host": "reviews"}}]}]})
		with data.inventory as {"namespace": {"shop": {"v1": {"Service": {"reviews": {
			"apiVersion": "v1", "kind": "Service",
			"metadata": {"name": "reviews", "namespace": "shop", "annotations": {"networking.istio.io/exportTo": "."}},
		}}}}}}
	v == {{"msg": `spec.http[0].route[0]: destination host "reviews" matches no Service or ServiceEntry exported to the namespaces the VirtualService is exported to (bogus)`}}
}

test_mirrors_denied if {
	v := virtualservice_host.violation with input as review({"http": [{
		"route": [{"destination": {"host": "reviews"}}],
		"mirror": {"host": "reviews-shadow"},
		"mirrors": [{"destination": {"host": "reviews-copy"}}],
	}]})
		with data.inventory as inventory
	v == {
		{"msg": `spec.http[0].mirror: mirror host "reviews-shadow" matches no Service or ServiceEntry`},
		{"msg": `spec.http[0].mirrors[0]: mirror host "reviews-copy" matches no Service or ServiceEntry`},
	}
}

test_destination_without_host_denied if {
	v := virtualservice_host.violation with input as review({"http": [{"route": [{}, {"destination": {"host": "reviews"}}]}]})
		with data.inventory as inventory
	v == {{"msg": `spec.http[0].route[0]: the destination has no host`}}
}

test_port_not_exposed_denied if {
	v := virtualservice_host.violation with input as review({"http": [{"route": [
		{"destination": {"host": "reviews", "port": {"number": 9080}}},
		{"destination": {"host": "reviews", "port": {"number": 999}}},
	]}]})
		with data.inventory as inventory
	v == {{"msg": `spec.http[0].route[1]: port 999 of host "reviews" is not a port of Service shop/reviews (9080)`}}
}
