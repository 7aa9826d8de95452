package mesh.linkerd.authorizationpolicy_target_missing_test

import data.mesh.linkerd.authorizationpolicy_target_missing
import rego.v1

obj(api_version, kind, ns, name) := {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": {}}

inventory := {"namespace": {
	"shop": {
		"policy.linkerd.io/v1beta3": {
			"Server": {"web-http": obj("policy.linkerd.io/v1beta3", "Server", "shop", "web-http")},
			"HTTPRoute": {"web-admin": obj("policy.linkerd.io/v1beta3", "HTTPRoute", "shop", "web-admin")},
		},
		"policy.linkerd.io/v1alpha1": {
			"MeshTLSAuthentication": {"web-clients": obj("policy.linkerd.io/v1alpha1", "MeshTLSAuthentication", "shop", "web-clients")},
			"NetworkAuthentication": {"cluster-network": obj("policy.linkerd.io/v1alpha1", "NetworkAuthentication", "shop", "cluster-network")},
		},
		"gateway.networking.k8s.io/v1": {"GRPCRoute": {"orders": obj("gateway.networking.k8s.io/v1", "GRPCRoute", "shop", "orders")}},
	},
	"linkerd": {"policy.linkerd.io/v1alpha1": {"MeshTLSAuthentication": {"all-meshed": obj("policy.linkerd.io/v1alpha1", "MeshTLSAuthentication", "linkerd", "all-meshed")}}},
}}

review(spec) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
		"metadata": {"name": "web-policy", "namespace": "shop"},
		"spec": spec,
	},
}}

server_ref(name) := {"group": "policy.linkerd.io", "kind": "Server", "name": name}

mtls_ref(name) := {"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": name}

test_existing_server_and_authentication_allowed if {
	spec := {"targetRef": server_ref("web-http"), "requiredAuthenticationRefs": [mtls_ref("web-clients")]}
	count(authorizationpolicy_target_missing.violation) == 0 with input as review(spec)
		with data.inventory as inventory
}

test_missing_server_denied if {
	spec := {"targetRef": server_ref("web-htpp"), "requiredAuthenticationRefs": [mtls_ref("web-clients")]}
	v := authorizationpolicy_target_missing.violation with input as review(spec)
		with data.inventory as inventory
	v == {{"msg": `spec.targetRef: Server "web-htpp" does not exist in namespace "shop"`}}
}

test_linkerd_httproute_allowed if {
	spec := {"targetRef": {"group": "policy.linkerd.io", "kind": "HTTPRoute", "name": "web-admin"}, "requiredAuthenticationRefs": [mtls_ref("web-clients")]}
	count(authorizationpolicy_target_missing.violation) == 0 with input as review(spec)
		with data.inventory as inventory
}

test_httproute_in_wrong_group_denied if {
	# web-admin is a policy.linkerd.io HTTPRoute, not a Gateway API one.
	spec := {"targetRef": {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "web-admin"}}
	v := authorizationpolicy_target_missing.violation with input as review(spec)
		with data.inventory as inventory
	v == {{"msg": `spec.targetRef: HTTPRoute "web-admin" does not exist in namespace "shop"`}}
}

test_gateway_grpcroute_allowed if {
	spec := {"targetRef": {"group": "gateway.networking.k8s.io", "kind": "GRPCRoute", "name": "orders"}}
	count(authorizationpolicy_target_missing.violation) == 0 with input as review(spec)
		with data.inventory as inventory
}

test_own_namespace_target_allowed if {
	spec := {"targetRef": {"kind": "Namespace", "name": "shop"}, "requiredAuthenticationRefs": [{"kind": "ServiceAccount", "name": "default"}]}
	count(authorizationpolicy_target_missing.violation) == 0 with input as review(spec)
		with data.inventory as inventory
}

test_other_namespace_target_denied if {
	spec := {"targetRef": {"kind": "Namespace", "name": "payments"}}
	v := authorizationpolicy_target_missing.violation with input as review(spec)
		with data.inventory as inventory
	v == {{"msg": `spec.targetRef: Namespace "payments" is not the policy's own namespace "shop", the only one it may target`}}
}

test_missing_authentications_denied if {
	spec := {"targetRef": server_ref("web-http"), "requiredAuthenticationRefs": [
		mtls_ref("web-clients"),
		{"group": "policy.linkerd.io", "kind": "NetworkAuthentication", "name": "office"},
		mtls_ref("all-meshed"),
	]}
	v := authorizationpolicy_target_missing.violation with input as review(spec)
		with data.inventory as inventory
	v == {
		{"msg": `spec.requiredAuthenticationRefs[1]: NetworkAuthentication "office" does not exist in namespace "shop"`},
		{"msg": `spec.requiredAuthenticationRefs[2]: MeshTLSAuthentication "all-meshed" does not exist in namespace "shop"`},
	}
}

test_cross_namespace_authentication_allowed if {
	spec := {"targetRef": server_ref("web-http"), "requiredAuthenticationRefs": [object.union(mtls_ref("all-meshed"), {"namespace": "linkerd"})]}
	count(authorizationpolicy_target_missing.violation) == 0 with input as review(spec)
		with data.inventory as inventory
}

test_service_account_not_checked if {
	spec := {"targetRef": server_ref("web-http"), "requiredAuthenticationRefs": [{"kind": "ServiceAccount", "name": "web"}]}
	count(authorizationpolicy_target_missing.violation) == 0 with input as review(spec)
		with data.inventory as inventory
}

test_omitted_group_finds_either if {
	spec := {"targetRef": {"kind": "HTTPRoute", "name": "web-admin"}, "requiredAuthenticationRefs": [{"kind": "NetworkAuthentication", "name": "cluster-network"}]}
	count(authorizationpolicy_target_missing.violation) == 0 with input as review(spec)
		with data.inventory as inventory
}
