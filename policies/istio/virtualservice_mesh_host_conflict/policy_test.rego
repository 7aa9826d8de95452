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
