package mesh.istio.serviceentry_protocol_conflict_test

import data.mesh.istio.serviceentry_protocol_conflict
import rego.v1

se(ns, name, protocol, export_to) := {
	"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
	"metadata": {"name": name, "namespace": ns},
	"spec": {"hosts": ["example.com"], "exportTo": export_to, "resolution": "DNS", "ports": [{"number": 8443, "name": lower(protocol), "protocol": protocol}]},
}

inventory(entries) := {"namespace": {ns: {"networking.istio.io/v1": {"ServiceEntry": {e.metadata.name: e | some e in entries; e.metadata.namespace == ns}}} |
	some x in entries
	ns := x.metadata.namespace
}}

review(obj) := {"review": {"namespace": obj.metadata.namespace, "operation": "CREATE", "object": obj}}

test_same_protocol_allowed if {
	a := se("shop", "a", "HTTPS", ["*"])
	b := se("shop", "b", "HTTPS", ["*"])
	count(serviceentry_protocol_conflict.violation) == 0 with input as review(a) with data.inventory as inventory([a, b])
}

test_different_protocols_denied if {
	a := se("shop", "a", "HTTPS", ["*"])
	b := se("shop", "b", "HTTP", ["*"])
	v := serviceentry_protocol_conflict.violation with input as review(a) with data.inventory as inventory([a, b])
	v == {{"msg": "spec.ports[0]: host example.com port 8443 is HTTPS here and another protocol in ServiceEntry shop/b (HTTP): Istio uses only one of them"}}
}

test_separate_namespaces_allowed if {
	a := se("ns1", "a", "HTTPS", ["."])
	b := se("ns2", "b", "HTTP", ["."])
	count(serviceentry_protocol_conflict.violation) == 0 with input as review(a) with data.inventory as inventory([a, b])
}

test_everywhere_meets_somewhere if {
	a := se("ns1", "a", "HTTPS", ["."])
	b := se("ns2", "b", "HTTP", [])
	count(serviceentry_protocol_conflict.violation) == 1 with input as review(a) with data.inventory as inventory([a, b])
}
