package mesh.istio.authorizationpolicy_workload_test

import data.mesh.istio.authorizationpolicy_workload
import rego.v1

policy(ns, spec) := {"review": {"namespace": ns, "operation": "CREATE", "object": {
	"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
	"metadata": {"name": "httpbin", "namespace": ns},
	"spec": spec,
}}}

inventory := {"namespace": {"httpbin": {"apps/v1": {"Deployment": {"httpbin": {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": "httpbin", "namespace": "httpbin"},
	"spec": {"template": {"metadata": {"labels": {"app": "httpbin", "version": "v1"}}}},
}}}}}}

selecting(labels) := {"selector": {"matchLabels": labels}, "rules": [{"from": [{"source": {"namespaces": ["shop"]}}]}]}

test_selector_matches_allowed if {
	count(authorizationpolicy_workload.violation) == 0 with input as policy("httpbin", selecting({"app": "httpbin"})) with data.inventory as inventory
	count(authorizationpolicy_workload.violation) == 0 with input as policy("httpbin", {}) with data.inventory as inventory
	count(authorizationpolicy_workload.violation) == 0 with input as policy("istio-system", {}) with data.inventory as inventory
	count(authorizationpolicy_workload.violation) == 0 with input as policy("istio-system", selecting({"version": "v1"})) with data.inventory as inventory
}

test_selector_matches_nothing_denied if {
	v := authorizationpolicy_workload.violation with input as policy("httpbin", selecting({"app": "bogus"})) with data.inventory as inventory
	v == {{"msg": "spec.selector.matchLabels app=bogus match no Pod or workload pod template in namespace httpbin: the policy applies to nothing"}}
}

test_root_namespace_selector_denied if {
	v := authorizationpolicy_workload.violation with input as policy("istio-system", selecting({"version": "bogus"})) with data.inventory as inventory
	v == {{"msg": "spec.selector.matchLabels version=bogus match no Pod or workload pod template in any namespace: the policy applies to nothing"}}
}

test_empty_namespace_denied if {
	v := authorizationpolicy_workload.violation with input as policy("httpbin-empty", {}) with data.inventory as inventory
	v == {{"msg": "namespace httpbin-empty has no Pod or workload pod template: the namespace-wide policy applies to nothing"}}
}

test_no_workloads_in_view_not_judged if {
	count(authorizationpolicy_workload.violation) == 0 with input as policy("httpbin", selecting({"app": "bogus"})) with data.inventory as {}
}

test_target_refs_not_judged if {
	spec := {"targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "waypoint"}]}
	count(authorizationpolicy_workload.violation) == 0 with input as policy("shop", spec) with data.inventory as inventory
}
