package mesh.istio.virtualservice_subset_test

import data.mesh.istio.virtualservice_subset
import rego.v1

dr(ns, name, host, subsets) := {
	"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"host": host, "subsets": [{"name": s, "labels": {"version": s}} | some s in subsets]},
}

inventory := {"namespace": {
	"shop": {"networking.istio.io/v1": {"DestinationRule": {"reviews": dr("shop", "reviews", "reviews", ["v1", "v2"])}}},
	"payments": {"networking.istio.io/v1beta1": {"DestinationRule": {"ledger": dr("payments", "ledger", "ledger.payments.svc.cluster.local", ["blue"])}}},
	"istio-system": {"networking.istio.io/v1": {"DestinationRule": {"all-payments": dr("istio-system", "all-payments", "*.payments.svc.cluster.local", ["stable"])}}},
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

route(dests) := {"hosts": ["reviews"], "http": [{"route": dests, "timeout": "5s"}]}

test_defined_subsets_allowed if {
	count(virtualservice_subset.violation) == 0 with input as review(route([
		{"destination": {"host": "reviews", "subset": "v1"}, "weight": 90},
		{"destination": {"host": "reviews.shop.svc.cluster.local", "subset": "v2"}, "weight": 10},
	]))
		with data.inventory as inventory
}

test_no_subset_not_checked if {
	count(virtualservice_subset.violation) == 0 with input as review(route([{"destination": {"host": "ratings"}}]))
		with data.inventory as inventory
}

test_unknown_subset_denied if {
	v := virtualservice_subset.violation with input as review(route([{"destination": {"host": "reviews", "subset": "v3"}}]))
		with data.inventory as inventory
	v == {{"msg": `spec.http[0].route[0]: subset "v3" of host "reviews" is defined by no DestinationRule for reviews.shop.svc.cluster.local (defined subsets: v1, v2)`}}
}

test_host_without_destination_rule_denied if {
	v := virtualservice_subset.violation with input as review(route([{"destination": {"host": "ratings", "subset": "v1"}}]))
		with data.inventory as inventory
	v == {{"msg": `spec.http[0].route[0]: subset "v1" of host "ratings" is defined by no DestinationRule for ratings.shop.svc.cluster.local (no DestinationRule for this host defines any subset)`}}
}

test_short_name_resolves_in_virtual_service_namespace if {
	# "ledger" in shop is ledger.shop..., not the ledger DestinationRule of payments.
	count(virtualservice_subset.violation) == 1 with input as review(route([{"destination": {"host": "ledger", "subset": "blue"}}]))
		with data.inventory as inventory
	count(virtualservice_subset.violation) == 0 with input as review(route([{"destination": {"host": "ledger.payments.svc.cluster.local", "subset": "blue"}}]))
		with data.inventory as inventory
}

test_wildcard_destination_rule_in_root_namespace_allowed if {
	count(virtualservice_subset.violation) == 0 with input as review(route([{"destination": {"host": "ledger.payments.svc.cluster.local", "subset": "stable"}}]))
		with data.inventory as inventory
}

test_tcp_tls_and_mirrors_checked if {
	spec := {
		"hosts": ["reviews"],
		"http": [{
			"route": [{"destination": {"host": "reviews", "subset": "v1"}}],
			"mirror": {"host": "reviews", "subset": "shadow"},
			"mirrors": [{"destination": {"host": "reviews", "subset": "v2"}}, {"destination": {"host": "reviews", "subset": "canary"}}],
		}],
		"tcp": [{"route": [{"destination": {"host": "reviews", "subset": "v9"}}]}],
		"tls": [{"match": [{"sniHosts": ["reviews"]}], "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}],
	}
	v := virtualservice_subset.violation with input as review(spec)
		with data.inventory as inventory
	paths := {split(x.msg, ":")[0] | some x in v}
	paths == {"spec.http[0].mirror", "spec.http[0].mirrors[1]", "spec.tcp[0].route[0]"}
}

test_service_entry_namespace_searched if {
	inv := object.union(inventory, {"namespace": {"egress": {"networking.istio.io/v1": {
		"ServiceEntry": {"partner": {
			"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
			"metadata": {"name": "partner", "namespace": "egress"},
			"spec": {"hosts": ["api.partner.example.com"], "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}], "resolution": "DNS"},
		}},
		"DestinationRule": {"partner": dr("egress", "partner", "api.partner.example.com", ["eu"])},
	}}}})
	count(virtualservice_subset.violation) == 0 with input as review(route([{"destination": {"host": "api.partner.example.com", "subset": "eu"}}]))
		with data.inventory as inv
	count(virtualservice_subset.violation) == 1 with input as review(route([{"destination": {"host": "api.partner.example.com", "subset": "us"}}]))
		with data.inventory as inv
}

test_rules_of_unrelated_namespaces_not_used if {
	# A DestinationRule in team-x serves only clients in team-x.
	inv := object.union(inventory, {"namespace": {"team-x": {"networking.istio.io/v1": {"DestinationRule": {
		"reviews": dr("team-x", "reviews", "reviews.shop.svc.cluster.local", ["v3"]),
	}}}}})
	count(virtualservice_subset.violation) == 1 with input as review(route([{"destination": {"host": "reviews", "subset": "v3"}}]))
		with data.inventory as inv
}
