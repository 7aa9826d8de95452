package mesh.istio.jwt_claim_routing_test

import data.mesh.istio.jwt_claim_routing
import rego.v1

ingress_labels := {"app": "istio-ingressgateway", "istio": "ingressgateway"}

deployment := {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": "istio-ingressgateway", "namespace": "istio-ingress"},
	"spec": {"template": {"metadata": {"labels": ingress_labels}}},
}

gateway := {
	"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
	"metadata": {"name": "public", "namespace": "istio-ingress"},
	"spec": {"selector": {"istio": "ingressgateway"}, "servers": [{
		"port": {"number": 80, "name": "http", "protocol": "HTTP"},
		"hosts": ["*"],
	}]},
}

request_authn(ns, spec) := {
	"apiVersion": "security.istio.io/v1", "kind": "RequestAuthentication",
	"metadata": {"name": "jwt", "namespace": ns},
	"spec": object.union({"jwtRules": [{"issuer": "https://auth.example.com", "jwksUri": "https://auth.example.com/jwks.json"}]}, spec),
}

inventory(extra) := object.union_n(array.concat(
	[
		{"namespace": {"istio-ingress": {
			"apps/v1": {"Deployment": {"istio-ingressgateway": deployment}},
			"networking.istio.io/v1": {"Gateway": {"public": gateway}},
		}}},
		{"namespace": {"shop": {"v1": {"Service": {"reviews": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reviews", "namespace": "shop"}}}}}}},
	],
	[{"namespace": {ra.metadata.namespace: {"security.istio.io/v1": {"RequestAuthentication": {ra.metadata.name: ra}}}}} | some ra in extra],
))

review(spec) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": {"name": "reviews", "namespace": "shop"},
		"spec": object.union({"hosts": ["reviews.example.com"], "gateways": ["istio-ingress/public"]}, spec),
	},
}}

claim_route := {"http": [
	{
		"match": [{"headers": {"@request.auth.claims.group": {"exact": "beta"}}}],
		"route": [{"destination": {"host": "reviews", "subset": "v2"}}],
		"timeout": "5s",
	},
	{"route": [{"destination": {"host": "reviews", "subset": "v1"}}], "timeout": "5s"},
]}

denied_msg := `spec.http[0].match[0].headers routes on JWT claim "@request.auth.claims.group" through Gateway istio-ingress/public, but no RequestAuthentication applies to its workload (Deployment istio-ingress/istio-ingressgateway); the claim is never set, so the match cannot work`

test_selector_in_workload_namespace_allowed if {
	ra := request_authn("istio-ingress", {"selector": {"matchLabels": {"istio": "ingressgateway"}}})
	count(jwt_claim_routing.violation) == 0 with input as review(claim_route) with data.inventory as inventory([ra])
}

test_namespace_wide_allowed if {
	ra := request_authn("istio-ingress", {})
	count(jwt_claim_routing.violation) == 0 with input as review(claim_route) with data.inventory as inventory([ra])
}

test_root_namespace_allowed if {
	ra := request_authn("istio-system", {})
	count(jwt_claim_routing.violation) == 0 with input as review(claim_route) with data.inventory as inventory([ra])
}

test_no_claim_routing_allowed if {
	spec := {"http": [{
		"match": [{"headers": {"x-canary": {"exact": "true"}}}],
		"route": [{"destination": {"host": "reviews"}}],
	}]}
	count(jwt_claim_routing.violation) == 0 with input as review(spec) with data.inventory as inventory([])
}

test_mesh_only_not_checked if {
	count(jwt_claim_routing.violation) == 0 with input as review(object.union(claim_route, {"gateways": ["mesh"]})) with data.inventory as inventory([])
	mesh_match := {"http": [{
		"match": [{"gateways": ["mesh"], "headers": {"@request.auth.claims.group": {"exact": "beta"}}}],
		"route": [{"destination": {"host": "reviews"}}],
	}]}
	count(jwt_claim_routing.violation) == 0 with input as review(mesh_match) with data.inventory as inventory([])
}

test_unknown_gateway_left_to_other_policies if {
	count(jwt_claim_routing.violation) == 0 with input as review(object.union(claim_route, {"gateways": ["istio-ingress/missing"]})) with data.inventory as inventory([])
}

test_no_request_authentication_denied if {
	v := jwt_claim_routing.violation with input as review(claim_route) with data.inventory as inventory([])
	v == {{"msg": denied_msg}}
}

test_selector_for_another_workload_denied if {
	ra := request_authn("istio-ingress", {"selector": {"matchLabels": {"istio": "egressgateway"}}})
	other_ns := request_authn("shop", {})
	v := jwt_claim_routing.violation with input as review(claim_route) with data.inventory as inventory([ra, other_ns])
	v == {{"msg": denied_msg}}
}

test_target_ref_to_other_gateway_denied if {
	ra := request_authn("istio-ingress", {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "waypoint"}]})
	count(jwt_claim_routing.violation) == 1 with input as review(claim_route) with data.inventory as inventory([ra])
}

test_without_headers_and_bracket_claims_denied if {
	spec := {"gateways": ["public.istio-ingress.svc.cluster.local"], "http": [{
		"match": [{"withoutHeaders": {"@request.auth.claims[nested][role]": {"exact": "admin"}}}],
		"route": [{"destination": {"host": "reviews"}}],
	}]}
	v := jwt_claim_routing.violation with input as review(spec) with data.inventory as inventory([])
	v == {{"msg": `spec.http[0].match[0].withoutHeaders routes on JWT claim "@request.auth.claims[nested][role]" through Gateway istio-ingress/public, but no RequestAuthentication applies to its workload (Deployment istio-ingress/istio-ingressgateway); the claim is never set, so the match cannot work`}}
}

test_match_gateways_override if {
	spec := {"gateways": ["mesh", "istio-ingress/public"], "http": [{
		"match": [{"gateways": ["istio-ingress/public"], "headers": {"@request.auth.claims.group": {"exact": "beta"}}}],
		"route": [{"destination": {"host": "reviews"}}],
	}]}
	count(jwt_claim_routing.violation) == 1 with input as review(spec) with data.inventory as inventory([])
}

test_target_ref_to_own_gateway_allowed if {
	labelled := json.patch(deployment, [{
		"op": "add",
		"path": "/spec/template/metadata/labels/gateway.networking.k8s.io~1gateway-name",
		"value": "public-gw",
	}])
	ra := request_authn("istio-ingress", {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public-gw"}]})
	inv := json.patch(inventory([ra]), [{"op": "replace", "path": "/namespace/istio-ingress/apps~1v1/Deployment/istio-ingressgateway", "value": labelled}])
	count(jwt_claim_routing.violation) == 0 with input as review(claim_route) with data.inventory as inv
}

test_many_workloads_listed_briefly if {
	pods := {name: {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "istio-ingress", "labels": ingress_labels}} |
		some name in ["gw-a", "gw-b", "gw-c", "gw-d"]
	}
	inv := object.union(inventory([]), {"namespace": {"istio-ingress": {"v1": {"Pod": pods}}}})
	v := jwt_claim_routing.violation with input as review(claim_route) with data.inventory as inv
	v == {{"msg": `spec.http[0].match[0].headers routes on JWT claim "@request.auth.claims.group" through Gateway istio-ingress/public, but no RequestAuthentication applies to its workload (Deployment istio-ingress/istio-ingressgateway, Pod istio-ingress/gw-a, Pod istio-ingress/gw-b and 2 more); the claim is never set, so the match cannot work`}}
}

test_default_ingress_gateway_assumed if {
	# No workload carries istio=ingressgateway: the one an Istio install
	# creates in istio-system is assumed, as istioctl does.
	inv := json.patch(inventory([]), [{"op": "remove", "path": "/namespace/istio-ingress/apps~1v1"}])
	v := jwt_claim_routing.violation with input as review(claim_route) with data.inventory as inv
	v == {{"msg": `spec.http[0].match[0].headers routes on JWT claim "@request.auth.claims.group" through Gateway istio-ingress/public, but no RequestAuthentication applies to its workload (Deployment istio-system/istio-ingressgateway (assumed)); the claim is never set, so the match cannot work`}}
	ra := request_authn("istio-system", {"selector": {"matchLabels": {"istio": "ingressgateway"}}})
	with_ra := object.union(inv, {"namespace": {"istio-system": {"security.istio.io/v1": {"RequestAuthentication": {"jwt": ra}}}}})
	count(jwt_claim_routing.violation) == 0 with input as review(claim_route) with data.inventory as with_ra
}
