package mesh.istio.authorizationpolicy_namespace_test

import data.mesh.istio.authorizationpolicy_namespace
import rego.v1

policy(source) := {"review": {"namespace": "httpbin", "operation": "CREATE", "object": {
	"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
	"metadata": {"name": "httpbin", "namespace": "httpbin"},
	"spec": {"rules": [{"from": [{"source": source}]}]},
}}}

inventory := {
	"cluster": {"v1": {"Namespace": {n: {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} | some n in ["httpbin", "prod-shop", "shop-test"]}}},
	"namespace": {"frontend": {"v1": {"Service": {"web": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "frontend"}}}}}},
}

test_existing_namespaces_allowed if {
	count(authorizationpolicy_namespace.violation) == 0 with input as policy({"namespaces": ["httpbin", "prod-*", "*-test", "*", "frontend"]}) with data.inventory as inventory
}

test_unknown_namespaces_denied if {
	v := authorizationpolicy_namespace.violation with input as policy({"namespaces": ["*-bogus"], "notNamespaces": ["httpbin", "bogus-*"]}) with data.inventory as inventory
	v == {
		{"msg": `spec.rules[0].from[0].source.namespaces[0] "*-bogus" matches no namespace`},
		{"msg": `spec.rules[0].from[0].source.notNamespaces[1] "bogus-*" matches no namespace`},
	}
}

test_no_namespaces_in_view_not_judged if {
	count(authorizationpolicy_namespace.violation) == 0 with input as policy({"namespaces": ["bogus"]}) with data.inventory as {}
}
