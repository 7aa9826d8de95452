package mesh.istio.mesh_mtls_strict_test

import data.mesh.istio.mesh_mtls_strict
import rego.v1

review(ns, spec) := {"review": {"namespace": ns, "operation": "CREATE", "object": {
	"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
	"metadata": {"name": "default", "namespace": ns},
	"spec": spec,
}}}

test_strict_mesh_wide_allowed if {
	count(mesh_mtls_strict.violation) == 0 with input as review("istio-system", {"mtls": {"mode": "STRICT"}})
}

test_permissive_mesh_wide_denied if {
	v := mesh_mtls_strict.violation with input as review("istio-system", {"mtls": {"mode": "PERMISSIVE"}})
	v == {{"msg": "spec.mtls.mode is PERMISSIVE in this mesh-wide PeerAuthentication (root namespace istio-system, no selector): workloads without a stricter PeerAuthentication accept plaintext"}}
}

test_disable_mesh_wide_denied if {
	count(mesh_mtls_strict.violation) == 1 with input as review("istio-system", {"mtls": {"mode": "DISABLE"}})
}

test_unset_mesh_wide_denied if {
	v := mesh_mtls_strict.violation with input as review("istio-system", {})
	v == {{"msg": "spec.mtls.mode is not set (PERMISSIVE at mesh level) in this mesh-wide PeerAuthentication (root namespace istio-system, no selector): workloads without a stricter PeerAuthentication accept plaintext"}}
	count(mesh_mtls_strict.violation) == 1 with input as review("istio-system", {"mtls": {"mode": "UNSET"}})
}

test_empty_selector_is_mesh_wide if {
	count(mesh_mtls_strict.violation) == 1 with input as review("istio-system", {"selector": {"matchLabels": {}}, "mtls": {"mode": "PERMISSIVE"}})
}

test_workload_policy_in_root_namespace_allowed if {
	count(mesh_mtls_strict.violation) == 0 with input as review("istio-system", {"selector": {"matchLabels": {"app": "istio-ingressgateway"}}, "mtls": {"mode": "PERMISSIVE"}})
}

test_namespace_policy_allowed if {
	count(mesh_mtls_strict.violation) == 0 with input as review("shop", {"mtls": {"mode": "PERMISSIVE"}})
}

test_null_selector_is_mesh_wide if {
	count(mesh_mtls_strict.violation) == 1 with input as review("istio-system", {"selector": null, "mtls": {"mode": "PERMISSIVE"}})
}
