package mesh.istio.destinationrule_tls_ca_test

import data.mesh.istio.destinationrule_tls_ca
import rego.v1

review(spec) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
		"metadata": {"name": "payments", "namespace": "shop"},
		"spec": object.union({"host": "api.payments.example.com"}, spec),
	},
}}

test_simple_with_ca_allowed if {
	count(destinationrule_tls_ca.violation) == 0 with input as review({"trafficPolicy": {"tls": {
		"mode": "SIMPLE", "caCertificates": "/etc/certs/payments-ca.pem",
	}}})
}

test_system_trust_store_allowed if {
	count(destinationrule_tls_ca.violation) == 0 with input as review({"trafficPolicy": {"tls": {
		"mode": "SIMPLE", "caCertificates": "system",
	}}})
}

test_credential_name_with_workload_selector_allowed if {
	count(destinationrule_tls_ca.violation) == 0 with input as review({
		"workloadSelector": {"matchLabels": {"app": "checkout"}},
		"trafficPolicy": {"tls": {"mode": "MUTUAL", "credentialName": "payments-client"}},
	})
}

test_credential_name_without_workload_selector_denied if {
	v := destinationrule_tls_ca.violation with input as review({"trafficPolicy": {"tls": {
		"mode": "MUTUAL", "credentialName": "payments-client",
	}}})
	v == {{"msg": `spec.trafficPolicy.tls: mode MUTUAL for host "api.payments.example.com" sets credentialName but no workloadSelector (sidecars ignore credentialName then) and no caCertificates; the server certificate is verified only against the proxy's OS trust store (Istio 1.20 and later) or not at all (older Istio, or VERIFY_CERTIFICATE_AT_CLIENT=false)`}}
}

test_istio_mutual_and_disable_allowed if {
	count(destinationrule_tls_ca.violation) == 0 with input as review({"trafficPolicy": {
		"tls": {"mode": "ISTIO_MUTUAL"},
		"portLevelSettings": [{"port": {"number": 8080}, "tls": {"mode": "DISABLE"}}],
	}})
}

test_insecure_skip_verify_is_a_deliberate_choice if {
	count(destinationrule_tls_ca.violation) == 0 with input as review({"trafficPolicy": {"tls": {
		"mode": "SIMPLE", "insecureSkipVerify": true,
	}}})
}

test_no_tls_allowed if {
	count(destinationrule_tls_ca.violation) == 0 with input as review({"trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 10}}}})
	count(destinationrule_tls_ca.violation) == 0 with input as review({})
}

test_destination_level_denied if {
	v := destinationrule_tls_ca.violation with input as review({"trafficPolicy": {"tls": {"mode": "SIMPLE", "sni": "api.payments.example.com"}}})
	v == {{"msg": `spec.trafficPolicy.tls: mode SIMPLE for host "api.payments.example.com" sets neither caCertificates nor credentialName; the server certificate is verified only against the proxy's OS trust store (Istio 1.20 and later) or not at all (older Istio, or VERIFY_CERTIFICATE_AT_CLIENT=false)`}}
}

test_port_level_denied if {
	v := destinationrule_tls_ca.violation with input as review({"trafficPolicy": {
		"tls": {"mode": "SIMPLE", "caCertificates": "/etc/certs/ca.pem"},
		"portLevelSettings": [
			{"port": {"number": 443}, "tls": {"mode": "MUTUAL", "clientCertificate": "/etc/certs/client.pem", "privateKey": "/etc/certs/client.key"}},
			{"port": {"number": 8443}, "tls": {"mode": "SIMPLE", "caCertificates": "/etc/certs/ca.pem"}},
		],
	}})
	v == {{"msg": `spec.trafficPolicy.portLevelSettings[0].tls: mode MUTUAL for host "api.payments.example.com" (port 443) sets neither caCertificates nor credentialName; the server certificate is verified only against the proxy's OS trust store (Istio 1.20 and later) or not at all (older Istio, or VERIFY_CERTIFICATE_AT_CLIENT=false)`}}
}

test_empty_ca_counts_as_unset if {
	count(destinationrule_tls_ca.violation) == 1 with input as review({"trafficPolicy": {"tls": {"mode": "SIMPLE", "caCertificates": ""}}})
	count(destinationrule_tls_ca.violation) == 1 with input as review({"trafficPolicy": {"tls": {"mode": "SIMPLE", "insecureSkipVerify": false}}})
}

test_subset_levels_denied if {
	v := destinationrule_tls_ca.violation with input as review({
		"workloadSelector": {"matchLabels": {"app": "checkout"}},
		"trafficPolicy": {"tls": {"mode": "SIMPLE", "credentialName": "payments-ca"}},
		"subsets": [
			{"name": "v1", "labels": {"version": "v1"}},
			{"name": "v2", "labels": {"version": "v2"}, "trafficPolicy": {
				"tls": {"mode": "SIMPLE"},
				"portLevelSettings": [{"port": {"number": 9443}, "tls": {"mode": "SIMPLE"}}],
			}},
		],
	})
	count(v) == 2
	some a in v
	startswith(a.msg, "spec.subsets[1].trafficPolicy.tls: mode SIMPLE")
	some b in v
	startswith(b.msg, "spec.subsets[1].trafficPolicy.portLevelSettings[0].tls: mode SIMPLE")
}
