package mesh.istio.authorizationpolicy_allow_all_test

import data.mesh.istio.authorizationpolicy_allow_all
import rego.v1

review(ns, spec) := {"review": {"namespace": ns, "operation": "CREATE", "object": {
	"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
	"metadata": {"name": "policy", "namespace": ns},
	"spec": spec,
}}}

reviews := {"matchLabels": {"app": "reviews"}}

waypoint_inventory := {"namespace": {"shop": {"gateway.networking.k8s.io/v1": {"Gateway": {
	"waypoint": {
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
		"metadata": {"name": "waypoint", "namespace": "shop"},
		"spec": {"gatewayClassName": "istio-waypoint", "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]},
	},
	"public": {
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
		"metadata": {"name": "public", "namespace": "shop"},
		"spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
	},
}}}}}

test_restricted_rules_allowed if {
	spec := {"selector": reviews, "action": "ALLOW", "rules": [{
		"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/productpage"]}}],
		"to": [{"operation": {"methods": ["GET"]}}],
	}]}
	count(authorizationpolicy_allow_all.violation) == 0 with input as review("shop", spec)
}

test_allow_nothing_allowed if {
	# No rules: an ALLOW policy that matches nothing denies everything.
	count(authorizationpolicy_allow_all.violation) == 0 with input as review("shop", {})
	count(authorizationpolicy_allow_all.violation) == 0 with input as review("shop", {"selector": reviews, "action": "ALLOW"})
}

test_deny_all_allowed if {
	count(authorizationpolicy_allow_all.violation) == 0 with input as review("shop", {"action": "DENY", "rules": [{}]})
}

test_empty_rule_denied if {
	v := authorizationpolicy_allow_all.violation with input as review("shop", {"selector": reviews, "action": "ALLOW", "rules": [{}]})
	v == {{"msg": "spec.rules[0] is empty and matches every request: this ALLOW policy lets every request reach workloads with labels app=reviews unless a DENY policy rejects it"}}
}

test_default_action_is_allow if {
	v := authorizationpolicy_allow_all.violation with input as review("shop", {"rules": [{}]})
	v == {{"msg": `spec.rules[0] is empty and matches every request: this ALLOW policy lets every request reach every workload in namespace "shop" unless a DENY policy rejects it`}}
}

test_rule_with_empty_lists_denied if {
	v := authorizationpolicy_allow_all.violation with input as review("shop", {"selector": reviews, "rules": [
		{"from": [{"source": {"namespaces": ["shop"]}}]},
		{"from": [], "to": [], "when": null},
	]})
	v == {{"msg": "spec.rules[1] is empty and matches every request: this ALLOW policy lets every request reach workloads with labels app=reviews unless a DENY policy rejects it"}}
}

test_mesh_wide_allow_all_denied if {
	v := authorizationpolicy_allow_all.violation with input as review("istio-system", {"rules": [{}]})
	v == {{"msg": "spec.rules[0] is empty and matches every request: this ALLOW policy lets every request reach every workload in the mesh unless a DENY policy rejects it"}}
}

test_root_namespace_selector_spans_namespaces if {
	v := authorizationpolicy_allow_all.violation with input as review("istio-system", {"selector": reviews, "rules": [{}]})
	v == {{"msg": "spec.rules[0] is empty and matches every request: this ALLOW policy lets every request reach workloads with labels app=reviews in every namespace unless a DENY policy rejects it"}}
}

test_ingress_gateway_allowed if {
	count(authorizationpolicy_allow_all.violation) == 0 with input as review("istio-system", {"selector": {"matchLabels": {"istio": "ingressgateway"}}, "rules": [{}]})
	count(authorizationpolicy_allow_all.violation) == 0 with input as review("shop", {"selector": {"matchLabels": {"gateway.networking.k8s.io/gateway-name": "public"}}, "rules": [{}]})
		with data.inventory as waypoint_inventory
	count(authorizationpolicy_allow_all.violation) == 0 with input as review("shop", {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}], "rules": [{}]})
		with data.inventory as waypoint_inventory
}

test_waypoint_target_denied if {
	v := authorizationpolicy_allow_all.violation with input as review("shop", {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "waypoint"}], "rules": [{}]})
		with data.inventory as waypoint_inventory
	v == {{"msg": "spec.rules[0] is empty and matches every request: this ALLOW policy lets every request reach the targets Gateway/waypoint unless a DENY policy rejects it"}}
	count(authorizationpolicy_allow_all.violation) == 1 with input as review("shop", {"selector": {"matchLabels": {"gateway.networking.k8s.io/gateway-name": "waypoint"}}, "rules": [{}]})
		with data.inventory as waypoint_inventory
}

test_service_target_denied if {
	v := authorizationpolicy_allow_all.violation with input as review("shop", {"targetRefs": [{"kind": "Service", "group": "", "name": "reviews"}], "rules": [{}]})
	v == {{"msg": "spec.rules[0] is empty and matches every request: this ALLOW policy lets every request reach the targets Service/reviews unless a DENY policy rejects it"}}
}

test_null_fields_tolerated if {
	v := authorizationpolicy_allow_all.violation with input as review("shop", {"selector": null, "targetRefs": null, "rules": [{}]})
	v == {{"msg": `spec.rules[0] is empty and matches every request: this ALLOW policy lets every request reach every workload in namespace "shop" unless a DENY policy rejects it`}}
	count(authorizationpolicy_allow_all.violation) == 0 with input as review("shop", {"rules": null})
}

test_single_target_ref if {
	v := authorizationpolicy_allow_all.violation with input as review("shop", {"targetRef": {"kind": "Service", "group": "", "name": "reviews"}, "rules": [{}]})
	v == {{"msg": "spec.rules[0] is empty and matches every request: this ALLOW policy lets every request reach the targets Service/reviews unless a DENY policy rejects it"}}
}
