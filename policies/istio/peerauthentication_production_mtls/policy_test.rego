package mesh.istio.peerauthentication_production_mtls_test

import data.mesh.istio.peerauthentication_production_mtls
import rego.v1

namespace(labels) := {"cluster": {"v1": {"Namespace": {"shop": {
	"apiVersion": "v1", "kind": "Namespace",
	"metadata": {"name": "shop", "labels": labels},
}}}}}

production := namespace({"environment": "production", "istio-injection": "enabled"})

staging := namespace({"environment": "staging", "istio-injection": "enabled"})

review(spec) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
	"metadata": {"name": "default", "namespace": "shop"},
	"spec": spec,
}}}

test_strict_in_production_allowed if {
	count(peerauthentication_production_mtls.violation) == 0 with input as review({"mtls": {"mode": "STRICT"}})
		with data.inventory as production
}

test_permissive_in_production_allowed if {
	count(peerauthentication_production_mtls.violation) == 0 with input as review({"mtls": {"mode": "PERMISSIVE"}, "portLevelMtls": {"9443": {"mode": "PERMISSIVE"}}, "selector": {"matchLabels": {"app": "webhook"}}})
		with data.inventory as production
}

test_disable_outside_production_allowed if {
	count(peerauthentication_production_mtls.violation) == 0 with input as review({"mtls": {"mode": "DISABLE"}})
		with data.inventory as staging
}

test_unknown_namespace_allowed if {
	count(peerauthentication_production_mtls.violation) == 0 with input as review({"mtls": {"mode": "DISABLE"}})
		with data.inventory as {}
}

test_namespace_wide_disable_denied if {
	v := peerauthentication_production_mtls.violation with input as review({"mtls": {"mode": "DISABLE"}})
		with data.inventory as production
	v == {{"msg": `spec.mtls.mode is DISABLE in production namespace "shop" (environment=production): plaintext from any client is accepted by every workload in the namespace`}}
}

test_workload_disable_denied if {
	v := peerauthentication_production_mtls.violation with input as review({"selector": {"matchLabels": {"app": "reviews"}}, "mtls": {"mode": "DISABLE"}})
		with data.inventory as namespace({"env": "Prod"})
	v == {{"msg": `spec.mtls.mode is DISABLE in production namespace "shop" (env=Prod): plaintext from any client is accepted by workloads with labels app=reviews`}}
}

test_port_level_disable_denied if {
	v := peerauthentication_production_mtls.violation with input as review({
		"selector": {"matchLabels": {"app": "reviews"}},
		"mtls": {"mode": "STRICT"},
		"portLevelMtls": {"8080": {"mode": "DISABLE"}, "9080": {"mode": "STRICT"}},
	})
		with data.inventory as production
	v == {{"msg": `spec.portLevelMtls[8080].mode is DISABLE in production namespace "shop" (environment=production): plaintext from any client is accepted on port 8080 of workloads with labels app=reviews`}}
}

test_no_mtls_block_allowed if {
	# UNSET inherits from the namespace or mesh policy.
	count(peerauthentication_production_mtls.violation) == 0 with input as review({"selector": {"matchLabels": {"app": "reviews"}}})
		with data.inventory as production
}

test_both_environment_labels_reported_once if {
	v := peerauthentication_production_mtls.violation with input as review({"mtls": {"mode": "DISABLE"}})
		with data.inventory as namespace({"environment": "production", "env": "prod"})
	v == {{"msg": `spec.mtls.mode is DISABLE in production namespace "shop" (environment=production): plaintext from any client is accepted by every workload in the namespace`}}
}

test_null_fields_tolerated if {
	count(peerauthentication_production_mtls.violation) == 0 with input as review({"selector": null, "mtls": null, "portLevelMtls": null})
		with data.inventory as production
	count(peerauthentication_production_mtls.violation) == 1 with input as review({"selector": null, "mtls": {"mode": "DISABLE"}, "portLevelMtls": null})
		with data.inventory as production
}
