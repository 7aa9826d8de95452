package mesh.istio.virtualservice_mesh_host_conflict_test

import data.mesh.istio.virtualservice_mesh_host_conflict as conflict
import rego.v1

vs(ns, name, spec) := {
	"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
	"metadata": {"name": name, "namespace": ns},
	"spec": object.union({"http": [{"route": [{"destination": {"host": "reviews.shop.svc.cluster.local"}}], "timeout": "5s"}]}, spec),
}

inventory := {"namespace": {
	"shop": {"networking.istio.io/v1": {"VirtualService": {
		"reviews": vs("shop", "reviews", {"hosts": ["reviews"]}),
		"reviews-edge": vs("shop", "reviews-edge", {"hosts": ["reviews"], "gateways": ["istio-ingress/public"]}),
		"ratings-local": vs("shop", "ratings-local", {"hosts": ["ratings"], "exportTo": ["."]}),
		"details": vs("shop", "details", {"hosts": ["details"], "gateways": ["mesh", "istio-ingress/public"]}),
	}}},
	"frontend": {"networking.istio.io/v1beta1": {"VirtualService": {
		"ratings-for-frontend": vs("frontend", "ratings-for-frontend", {"hosts": ["ratings.shop.svc.cluster.local"], "exportTo": ["."]}),
	}}},
}}

review(ns, name, spec) := {"review": {
	"namespace": ns,
	"operation": "CREATE",
	"object": vs(ns, name, spec),
}}

test_single_virtual_service_allowed if {
	count(conflict.violation) == 0 with input as review("shop", "ratings", {"hosts": ["ratings"], "exportTo": ["*"]})
		with data.inventory as {}
}

test_update_of_itself_allowed if {
	count(conflict.violation) == 0 with input as review("shop", "reviews", {"hosts": ["reviews", "reviews.shop.svc.cluster.local"]})
		with data.inventory as inventory
}

test_same_short_name_denied if {
	v := conflict.violation with input as review("shop", "reviews-canary", {"hosts": ["reviews"]})
		with data.inventory as inventory
	v == {{"msg": `spec.hosts[0] "reviews" (reviews.shop.svc.cluster.local) is also defined by VirtualService shop/reviews bound to the mesh gateway: sidecars apply only one of them`}}
}

test_fqdn_matches_short_name_elsewhere if {
	v := conflict.violation with input as review("team-b", "reviews", {"hosts": ["api.example.com", "reviews.shop.svc.cluster.local"], "gateways": ["mesh"]})
		with data.inventory as inventory
	v == {{"msg": `spec.hosts[1] "reviews.shop.svc.cluster.local" (reviews.shop.svc.cluster.local) is also defined by VirtualService shop/reviews bound to the mesh gateway: sidecars apply only one of them`}}
}

test_gateway_only_virtual_services_not_compared if {
	# Bound to a gateway only: gateways merge VirtualServices per host.
	count(conflict.violation) == 0 with input as review("shop", "reviews-edge-2", {"hosts": ["reviews"], "gateways": ["istio-ingress/public"]})
		with data.inventory as inventory
}

test_mesh_and_gateway_bound_counts_as_mesh if {
	v := conflict.violation with input as review("frontend", "details", {"hosts": ["details.shop.svc.cluster.local"], "gateways": []})
		with data.inventory as inventory
	v == {{"msg": `spec.hosts[0] "details.shop.svc.cluster.local" (details.shop.svc.cluster.local) is also defined by VirtualService shop/details bound to the mesh gateway: sidecars apply only one of them`}}
}

test_export_to_disjoint_namespaces_allowed if {
	# shop/ratings-local is for shop only and frontend/ratings-for-frontend for frontend only.
	count(conflict.violation) == 0 with input as review("shop", "ratings-other", {"hosts": ["ratings"], "exportTo": ["backoffice"]})
		with data.inventory as inventory
	count(conflict.violation) == 0 with input as review("shop", "ratings-hidden", {"hosts": ["ratings"], "exportTo": ["~"]})
		with data.inventory as inventory
}

test_export_to_same_namespace_denied if {
	v := conflict.violation with input as review("frontend", "ratings-2", {"hosts": ["ratings.shop.svc.cluster.local"], "exportTo": ["."]})
		with data.inventory as inventory
	v == {{"msg": `spec.hosts[0] "ratings.shop.svc.cluster.local" (ratings.shop.svc.cluster.local) is also defined by VirtualService frontend/ratings-for-frontend bound to the mesh gateway: sidecars apply only one of them`}}
	count(conflict.violation) == 1 with input as review("shop", "ratings-2", {"hosts": ["ratings"], "exportTo": ["shop"]})
		with data.inventory as inventory
}

test_several_others_named if {
	v := conflict.violation with input as review("frontend", "all-ratings", {"hosts": ["ratings.shop.svc.cluster.local"], "exportTo": ["shop", "frontend"]})
		with data.inventory as inventory
	v == {{"msg": `spec.hosts[0] "ratings.shop.svc.cluster.local" (ratings.shop.svc.cluster.local) is also defined by VirtualService frontend/ratings-for-frontend, shop/ratings-local bound to the mesh gateway: sidecars apply only one of them`}}
}

test_rivals_looked_for_in_every_namespace if {
	# frontend/ratings-for-frontend is in neither team-c nor shop, and both
	# export the host to frontend.
	v := conflict.violation with input as review("team-c", "ratings", {"hosts": ["ratings.shop.svc.cluster.local"], "exportTo": ["frontend"]})
		with data.inventory as inventory
	v == {{"msg": `spec.hosts[0] "ratings.shop.svc.cluster.local" (ratings.shop.svc.cluster.local) is also defined by VirtualService frontend/ratings-for-frontend bound to the mesh gateway: sidecars apply only one of them`}}
}

test_exported_everywhere_conflicts_with_exported_somewhere if {
	local := vs_in("team1", "ratings-local", ["google.com"], ["."])
	everywhere := vs_in("team2", "ratings", ["google.com"], ["*"])
	inv := inventory_of([local, everywhere])
	v := conflict.violation with input as review_of(local) with data.inventory as inv
	v == {{"msg": `spec.hosts[0] "google.com" (google.com) is also defined by VirtualService team2/ratings bound to the mesh gateway: sidecars apply only one of them`}}
	count(conflict.violation) == 1 with input as review_of(everywhere) with data.inventory as inv
}

test_overlapping_wildcards_conflict_across_scopes if {
	local := vs_in("foo", "d", ["*.productpage.d"], ["."])
	everywhere := vs_in("bar", "d", ["*.d"], ["*"])
	inv := inventory_of([local, everywhere])
	v := conflict.violation with input as review_of(local) with data.inventory as inv
	v == {{"msg": `spec.hosts[0] "*.productpage.d" (*.productpage.d) is also defined by VirtualService bar/d bound to the mesh gateway: sidecars apply only one of them`}}
	count(conflict.violation) == 1 with input as review_of(everywhere) with data.inventory as inv
	specific := vs_in("foo", "api", ["api.productpage.d"], ["foo"])
	count(conflict.violation) == 1 with input as review_of(specific) with data.inventory as inventory_of([specific, everywhere])
}

test_overlapping_wildcards_exported_everywhere_allowed if {
	a := vs_in("foo", "a", ["*.productpage.d"], ["*"])
	b := vs_in("bar", "b", ["*.d"], ["*"])
	count(conflict.violation) == 0 with input as review_of(a) with data.inventory as inventory_of([a, b])
}

test_different_namespaces_allowed if {
	a := vs_in("foo", "a", ["google.com"], ["foo"])
	b := vs_in("bar", "b", ["google.com"], ["."])
	count(conflict.violation) == 0 with input as review_of(a) with data.inventory as inventory_of([a, b])
}

vs_in(ns, name, hosts, export_to) := {
	"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"hosts": hosts, "exportTo": export_to, "http": [{"route": [{"destination": {"host": "ratings"}}]}]},
}

inventory_of(services) := {"namespace": {ns: {"networking.istio.io/v1": {"VirtualService": {v.metadata.name: v | some v in services; v.metadata.namespace == ns}}} |
	some s in services
	ns := s.metadata.namespace
}}

review_of(obj) := {"review": {"namespace": obj.metadata.namespace, "operation": "CREATE", "object": obj}}
