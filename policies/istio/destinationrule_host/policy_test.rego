package mesh.istio.destinationrule_host_test

import data.mesh.istio.destinationrule_host
import rego.v1

inventory := {"namespace": {
	"bookinfo": {"v1": {"Service": {"reviews": {
		"apiVersion": "v1", "kind": "Service",
		"metadata": {"name": "reviews", "namespace": "bookinfo"},
		"spec": {"selector": {"app": "reviews"}, "ports": [{"name": "http", "port": 9080}]},
	}}}},
	"egress": {"networking.istio.io/v1": {"ServiceEntry": {
		"payments": {
			"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
			"metadata": {"name": "payments", "namespace": "egress"},
			"spec": {"hosts": ["api.payments.example.com"], "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}], "resolution": "DNS"},
		},
		"googleapis": {
			"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
			"metadata": {"name": "googleapis", "namespace": "egress"},
			"spec": {"hosts": ["*.googleapis.com"], "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}], "resolution": "NONE"},
		},
	}}},
}}

review(ns, host) := {"review": {
	"namespace": ns,
	"operation": "CREATE",
	"object": {
		"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
		"metadata": {"name": "dr", "namespace": ns},
		"spec": {"host": host, "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}},
	},
}}

test_short_name_in_own_namespace_allowed if {
	count(destinationrule_host.violation) == 0 with input as review("bookinfo", "reviews")
		with data.inventory as inventory
}

test_fqdn_from_other_namespace_allowed if {
	count(destinationrule_host.violation) == 0 with input as review("frontend", "reviews.bookinfo.svc.cluster.local")
		with data.inventory as inventory
}

test_service_entry_hosts_allowed if {
	count(destinationrule_host.violation) == 0 with input as review("shop", "api.payments.example.com")
		with data.inventory as inventory
	count(destinationrule_host.violation) == 0 with input as review("shop", "storage.googleapis.com")
		with data.inventory as inventory
}

test_wildcard_host_not_checked if {
	count(destinationrule_host.violation) == 0 with input as review("istio-system", "*.local")
		with data.inventory as inventory
	count(destinationrule_host.violation) == 0 with input as review("istio-system", "*")
		with data.inventory as inventory
}

test_typo_denied if {
	v := destinationrule_host.violation with input as review("bookinfo", "reveiws")
		with data.inventory as inventory
	v == {{"msg": `spec.host "reveiws" matches no Service or ServiceEntry (resolved as "reveiws.bookinfo.svc.cluster.local")`}}
}

test_short_name_in_other_namespace_denied if {
	v := destinationrule_host.violation with input as review("frontend", "reviews")
		with data.inventory as inventory
	v == {{"msg": `spec.host "reviews" matches no Service or ServiceEntry (resolved as "reviews.frontend.svc.cluster.local")`}}
}

test_name_dot_namespace_denied_with_hint if {
	v := destinationrule_host.violation with input as review("frontend", "reviews.bookinfo")
		with data.inventory as inventory
	v == {{"msg": `spec.host "reviews.bookinfo" matches no Service or ServiceEntry (resolved as "reviews.bookinfo"); Istio does not expand "reviews.bookinfo", write reviews.bookinfo.svc.cluster.local`}}
}
