package mesh.istio.gateway_credential_test

import data.mesh.istio.gateway_credential
import rego.v1

# ECDSA P-256 test certificates (those of linkerd/issuer_certificate_expiry),
# base64-encoded PEM as in Secret data; their keys were discarded.
# Valid 2024-01-01 to 2099-12-31.
valid := "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJwVENDQVV1Z0F3SUJBZ0lCQWpBS0JnZ3Foa2pPUFFRREFqQWxNU013SVFZRFZRUURFeHB5YjI5MExteHAKYm10bGNtUXVZMngxYzNSbGNpNXNiMk5oYkRBZ0Z3MHlOREF4TURFd01EQXdNREJhR0E4eU1EazVNVEl6TVRBdwpNREF3TUZvd0tURW5NQ1VHQTFVRUF4TWVhV1JsYm5ScGRIa3ViR2x1YTJWeVpDNWpiSFZ6ZEdWeUxteHZZMkZzCk1Ga3dFd1lIS29aSXpqMENBUVlJS29aSXpqMERBUWNEUWdBRUlHNkhRWHhnUUU2S1lXeXBLTDFhMFcvdi9sZ3oKbTkzakh6Mkw4RGZQcXdLZTNGL0h1cUdFTHhXWmJmQk1ELzhpV00xMys1N05vcHRENTZXUHpYd1gycU5tTUdRdwpEZ1lEVlIwUEFRSC9CQVFEQWdFR01CSUdBMVVkRXdFQi93UUlNQVlCQWY4Q0FRQXdIUVlEVlIwT0JCWUVGRzFRCm4wRzFkZ1JIVE9VOExYdTlaMUpEWElzL01COEdBMVVkSXdRWU1CYUFGTDlNdmQ4SzBFUmN1azRlZmNWZGV3NzQKSWZWNE1Bb0dDQ3FHU000OUJBTUNBMGdBTUVVQ0lRRDc5SGY2Z0JMVjNJaUhjYUlSYjExeU0xa1FyVFh5aEVOMQp0cWZuMUMySkZRSWdBZWpXcUQyeHIyY1Jkc3BSUnJnbiszVmVzd3U5RHR5dmczeHdBanA4STFnPQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg=="

# Valid 2020-01-01 to 2021-01-01.
expired := "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJvekNDQVVtZ0F3SUJBZ0lCQkRBS0JnZ3Foa2pPUFFRREFqQWxNU013SVFZRFZRUURFeHB5YjI5MExteHAKYm10bGNtUXVZMngxYzNSbGNpNXNiMk5oYkRBZUZ3MHlNREF4TURFd01EQXdNREJhRncweU1UQXhNREV3TURBdwpNREJhTUNreEp6QWxCZ05WQkFNVEhtbGtaVzUwYVhSNUxteHBibXRsY21RdVkyeDFjM1JsY2k1c2IyTmhiREJaCk1CTUdCeXFHU000OUFnRUdDQ3FHU000OUF3RUhBMElBQkc0MUZTbHBUYWxET1B6TjBTTk1lTHZ0cEd5aktmQW4KWDFpU1JrTGZhVTlpNmloaGprYlp6RFd4WW9VayttNlM4TWJQVVQ3a2J2c0VlNW11bk1idGVvMmpaakJrTUE0RwpBMVVkRHdFQi93UUVBd0lCQmpBU0JnTlZIUk1CQWY4RUNEQUdBUUgvQWdFQU1CMEdBMVVkRGdRV0JCVDR1T1JkCnpJaHcvVzBTNEwrWkdtZnUyYzdpUHpBZkJnTlZIU01FR0RBV2dCUVBRYXovMHg5ajdDVHNuMndYSTdPSGVmUE8Kd3pBS0JnZ3Foa2pPUFFRREFnTklBREJGQWlBSzZMZ2RoTDZsK2pKOWRrQ0dPM0Q0V25DSFlkLzYyK2U0Ri90Uwp5UkNXM0FJaEFLamU2bkZYZWdiTGhzMXh0elFzR203aHhHTExBbmxWQUY2MGs3OVIrTzJ0Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"

gw(selector, credential) := {
	"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
	"metadata": {"name": "public", "namespace": "shop"},
	"spec": {"selector": selector, "servers": [{
		"port": {"number": 443, "name": "https", "protocol": "HTTPS"},
		"hosts": ["www.example.com"],
		"tls": {"mode": "SIMPLE", "credentialName": credential},
	}]},
}

secret(ns, name, content) := {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns}, "data": content}

pod(ns, labels) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gw", "namespace": ns, "labels": labels}}

# data.inventory holding objects (all namespaced).
inventory(objects) := {"namespace": {ns: by_version(objects, ns) | some ns in {o.metadata.namespace | some o in objects}}}

by_version(objects, ns) := {av: by_kind(objects, ns, av) | some av in {o.apiVersion | some o in objects; o.metadata.namespace == ns}}

by_kind(objects, ns, av) := {k: {o.metadata.name: o | some o in objects; o.metadata.namespace == ns; o.apiVersion == av; o.kind == k} |
	some k in {o.kind | some o in objects; o.metadata.namespace == ns; o.apiVersion == av}
}

review(obj) := {"review": {"namespace": obj.metadata.namespace, "operation": "CREATE", "object": obj}}

custom := {"app": "custom-gateway"}

test_secret_in_workload_namespace_allowed if {
	g := gw(custom, "www-cert")
	inv := inventory([pod("gateways", custom), secret("gateways", "www-cert", {"tls.crt": valid})])
	count(gateway_credential.violation) == 0 with input as review(g) with data.inventory as inv
}

test_generic_format_allowed if {
	g := gw(custom, "www-cert")
	inv := inventory([pod("gateways", custom), secret("gateways", "www-cert", {"cert": valid})])
	count(gateway_credential.violation) == 0 with input as review(g) with data.inventory as inv
}

test_secret_in_gateway_namespace_denied if {
	g := gw(custom, "www-cert")
	inv := inventory([pod("gateways", custom), secret("gateways", "other", {}), secret("shop", "www-cert", {"tls.crt": valid})])
	v := gateway_credential.violation with input as review(g) with data.inventory as inv
	v == {{"msg": `spec.servers[0].tls.credentialName "www-cert": no Secret www-cert in namespace gateways, where the gateway workload runs`}}
}

test_default_ingress_gateway_reads_istio_system if {
	g := gw({"istio": "ingressgateway"}, "www-cert")
	count(gateway_credential.violation) == 0 with input as review(g)
		with data.inventory as inventory([secret("istio-system", "www-cert", {"tls.crt": valid})])
	v := gateway_credential.violation with input as review(g) with data.inventory as inventory([secret("istio-system", "other", {})])
	v == {{"msg": `spec.servers[0].tls.credentialName "www-cert": no Secret www-cert in namespace istio-system, where the gateway workload runs`}}
}

test_namespace_without_secrets_not_judged if {
	# Files seldom carry Secrets: nothing is known about them there.
	count(gateway_credential.violation) == 0 with input as review(gw(custom, "www-cert")) with data.inventory as inventory([pod("gateways", custom)])
}

test_no_workload_left_to_mesh1104 if {
	count(gateway_credential.violation) == 0 with input as review(gw(custom, "www-cert")) with data.inventory as inventory([])
}

test_invalid_secrets_denied if {
	g := gw(custom, "www-cert")
	no_cert := gateway_credential.violation with input as review(g)
		with data.inventory as inventory([pod("gateways", custom), secret("gateways", "www-cert", {"tls.cert": valid})])
	no_cert == {{"msg": `spec.servers[0].tls.credentialName "www-cert": Secret gateways/www-cert holds no certificate (tls.crt, or cert)`}}
	garbage := gateway_credential.violation with input as review(g)
		with data.inventory as inventory([pod("gateways", custom), secret("gateways", "www-cert", {"tls.crt": base64.encode("hush hush")})])
	garbage == {{"msg": `spec.servers[0].tls.credentialName "www-cert": Secret gateways/www-cert holds no PEM certificate that parses`}}
	old := gateway_credential.violation with input as review(g)
		with data.inventory as inventory([pod("gateways", custom), secret("gateways", "www-cert", {"tls.crt": expired})])
	old == {{"msg": `spec.servers[0].tls.credentialName "www-cert": Secret gateways/www-cert holds a certificate (CN "identity.linkerd.cluster.local") that expired on 2021-01-01T00:00:00Z`}}
}

test_server_without_credential_allowed if {
	g := json.patch(gw(custom, "x"), [{"op": "remove", "path": "/spec/servers/0/tls/credentialName"}])
	count(gateway_credential.violation) == 0 with input as review(g) with data.inventory as inventory([pod("gateways", custom)])
}

test_kubernetes_prefix_allowed if {
	# Istio removes kubernetes:// before it splits namespace and name.
	inv := inventory([pod("gateways", custom), secret("gateways", "www-cert", {"tls.crt": valid}), secret("certs", "shared", {"tls.crt": valid})])
	count(gateway_credential.violation) == 0 with input as review(gw(custom, "kubernetes://www-cert")) with data.inventory as inv
	count(gateway_credential.violation) == 0 with input as review(gw(custom, "kubernetes://certs/shared")) with data.inventory as inv
	v := gateway_credential.violation with input as review(gw(custom, "kubernetes://certs/gone")) with data.inventory as inv
	v == {{"msg": `spec.servers[0].tls.credentialName "kubernetes://certs/gone": no Secret gone in namespace certs, where the gateway workload runs`}}
}
