package mesh.linkerd.issuer_certificate_expiry_test

import data.mesh.linkerd.issuer_certificate_expiry
import rego.v1

# ECDSA P-256 test certificates, base64-encoded PEM as in Secret data (their
# keys were discarded).
# CN identity.linkerd.cluster.local, valid 2024-01-01 to 2099-12-31.
issuer := "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJwVENDQVV1Z0F3SUJBZ0lCQWpBS0JnZ3Foa2pPUFFRREFqQWxNU013SVFZRFZRUURFeHB5YjI5MExteHAKYm10bGNtUXVZMngxYzNSbGNpNXNiMk5oYkRBZ0Z3MHlOREF4TURFd01EQXdNREJhR0E4eU1EazVNVEl6TVRBdwpNREF3TUZvd0tURW5NQ1VHQTFVRUF4TWVhV1JsYm5ScGRIa3ViR2x1YTJWeVpDNWpiSFZ6ZEdWeUxteHZZMkZzCk1Ga3dFd1lIS29aSXpqMENBUVlJS29aSXpqMERBUWNEUWdBRUlHNkhRWHhnUUU2S1lXeXBLTDFhMFcvdi9sZ3oKbTkzakh6Mkw4RGZQcXdLZTNGL0h1cUdFTHhXWmJmQk1ELzhpV00xMys1N05vcHRENTZXUHpYd1gycU5tTUdRdwpEZ1lEVlIwUEFRSC9CQVFEQWdFR01CSUdBMVVkRXdFQi93UUlNQVlCQWY4Q0FRQXdIUVlEVlIwT0JCWUVGRzFRCm4wRzFkZ1JIVE9VOExYdTlaMUpEWElzL01COEdBMVVkSXdRWU1CYUFGTDlNdmQ4SzBFUmN1azRlZmNWZGV3NzQKSWZWNE1Bb0dDQ3FHU000OUJBTUNBMGdBTUVVQ0lRRDc5SGY2Z0JMVjNJaUhjYUlSYjExeU0xa1FyVFh5aEVOMQp0cWZuMUMySkZRSWdBZWpXcUQyeHIyY1Jkc3BSUnJnbiszVmVzd3U5RHR5dmczeHdBanA4STFnPQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg=="

# CN identity.linkerd.cluster.local, valid 2020-01-01 to 2021-01-01.
expired_issuer := "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJvekNDQVVtZ0F3SUJBZ0lCQkRBS0JnZ3Foa2pPUFFRREFqQWxNU013SVFZRFZRUURFeHB5YjI5MExteHAKYm10bGNtUXVZMngxYzNSbGNpNXNiMk5oYkRBZUZ3MHlNREF4TURFd01EQXdNREJhRncweU1UQXhNREV3TURBdwpNREJhTUNreEp6QWxCZ05WQkFNVEhtbGtaVzUwYVhSNUxteHBibXRsY21RdVkyeDFjM1JsY2k1c2IyTmhiREJaCk1CTUdCeXFHU000OUFnRUdDQ3FHU000OUF3RUhBMElBQkc0MUZTbHBUYWxET1B6TjBTTk1lTHZ0cEd5aktmQW4KWDFpU1JrTGZhVTlpNmloaGprYlp6RFd4WW9VayttNlM4TWJQVVQ3a2J2c0VlNW11bk1idGVvMmpaakJrTUE0RwpBMVVkRHdFQi93UUVBd0lCQmpBU0JnTlZIUk1CQWY4RUNEQUdBUUgvQWdFQU1CMEdBMVVkRGdRV0JCVDR1T1JkCnpJaHcvVzBTNEwrWkdtZnUyYzdpUHpBZkJnTlZIU01FR0RBV2dCUVBRYXovMHg5ajdDVHNuMndYSTdPSGVmUE8Kd3pBS0JnZ3Foa2pPUFFRREFnTklBREJGQWlBSzZMZ2RoTDZsK2pKOWRrQ0dPM0Q0V25DSFlkLzYyK2U0Ri90Uwp5UkNXM0FJaEFLamU2bkZYZWdiTGhzMXh0elFzR203aHhHTExBbmxWQUY2MGs3OVIrTzJ0Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"

# CN identity.linkerd.cluster.local, valid 2099-12-29 to 2099-12-31 (48h).
short_lived := "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJxRENDQVUyZ0F3SUJBZ0lCQlRBS0JnZ3Foa2pPUFFRREFqQWxNU013SVFZRFZRUURFeHB5YjI5MExteHAKYm10bGNtUXVZMngxYzNSbGNpNXNiMk5oYkRBaUdBOHlNRGs1TVRJeU9UQXdNREF3TUZvWUR6SXdPVGt4TWpNeApNREF3TURBd1dqQXBNU2N3SlFZRFZRUURFeDVwWkdWdWRHbDBlUzVzYVc1clpYSmtMbU5zZFhOMFpYSXViRzlqCllXd3dXVEFUQmdjcWhrak9QUUlCQmdncWhrak9QUU1CQndOQ0FBUWZsNG1kazNBUm0wc0JTL0UrL1BBTy84V0gKaEt3TzVZVkNxNTVhVkRIS2xCTzg3M3hiSk1rMkE3NWNnT2NyczhYenBhb1NaM09iU3BsN3VOa3hPTzY1bzJZdwpaREFPQmdOVkhROEJBZjhFQkFNQ0FRWXdFZ1lEVlIwVEFRSC9CQWd3QmdFQi93SUJBREFkQmdOVkhRNEVGZ1FVCnNLdGJKcXFIVHBma1lFZXNGL01Bd1I4Tlhtd3dId1lEVlIwakJCZ3dGb0FVdjB5OTN3clFSRnk2VGg1OXhWMTcKRHZnaDlYZ3dDZ1lJS29aSXpqMEVBd0lEU1FBd1JnSWhBSmVPVGgrQVVLNWlZVFQyZkhWZmZoMUhMN1FGZjNoOQpwN2p4MlZ3R0VzTGZBaUVBaithaHRINEVlSnZ4OEFtSjR4U2RaaU15OHNPOUl4K1BPYS9NNXRnTUJFZz0KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="

# The PEM text of the valid issuer, as stringData carries it.
issuer_pem := `-----BEGIN CERTIFICATE-----
MIIBpTCCAUugAwIBAgIBAjAKBggqhkjOPQQDAjAlMSMwIQYDVQQDExpyb290Lmxp
bmtlcmQuY2x1c3Rlci5sb2NhbDAgFw0yNDAxMDEwMDAwMDBaGA8yMDk5MTIzMTAw
MDAwMFowKTEnMCUGA1UEAxMeaWRlbnRpdHkubGlua2VyZC5jbHVzdGVyLmxvY2Fs
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIG6HQXxgQE6KYWypKL1a0W/v/lgz
m93jHz2L8DfPqwKe3F/HuqGELxWZbfBMD/8iWM13+57NoptD56WPzXwX2qNmMGQw
DgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQAwHQYDVR0OBBYEFG1Q
n0G1dgRHTOU8LXu9Z1JDXIs/MB8GA1UdIwQYMBaAFL9Mvd8K0ERcuk4efcVdew74
IfV4MAoGCCqGSM49BAMCA0gAMEUCIQD79Hf6gBLV3IiHcaIRb11yM1kQrTXyhEN1
tqfn1C2JFQIgAejWqD2xr2cRdspRRrgn+3Veswu9Dtyvg3xwAjp8I1g=
-----END CERTIFICATE-----`

# base64 of "not-a-real-key": a placeholder, never a key.
fake_key := "bm90LWEtcmVhbC1rZXk="

june_2025 := 1748736000000000000

# 2099-12-01: 30 days before the issuer expires.
december_2099 := 4099766400000000000

# 2099-12-30T12:00:00Z.
last_day := 4102315200000000000

secret(name, annotations, entries) := {"review": {
	"namespace": "linkerd",
	"operation": "CREATE",
	"object": {
		"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
		"metadata": {"name": name, "namespace": "linkerd", "annotations": annotations},
		"data": entries,
	},
}}

tls(crt) := {"tls.crt": crt, "tls.key": fake_key, "ca.crt": crt}

test_valid_issuer_allowed if {
	count(issuer_certificate_expiry.violation) == 0 with input as secret("linkerd-identity-issuer", {}, tls(issuer))
		with time.now_ns as june_2025
}

test_expired_issuer_denied if {
	v := issuer_certificate_expiry.violation with input as secret("linkerd-identity-issuer", {}, tls(expired_issuer))
		with time.now_ns as june_2025
	v == {{"msg": `data["tls.crt"] certificate 1 of 1 (CN "identity.linkerd.cluster.local") expired on 2021-01-01T00:00:00Z`}}
}

test_expiring_issuer_denied if {
	v := issuer_certificate_expiry.violation with input as secret("linkerd-identity-issuer", {}, tls(issuer))
		with time.now_ns as december_2099
	v == {{"msg": `data["tls.crt"] certificate 1 of 1 (CN "identity.linkerd.cluster.local") expires on 2099-12-31T00:00:00Z, in 30 days`}}
}

test_linkerd_scheme_crt_pem_checked if {
	v := issuer_certificate_expiry.violation with input as secret("linkerd-identity-issuer", {}, {"crt.pem": expired_issuer, "key.pem": fake_key})
		with time.now_ns as june_2025
	v == {{"msg": `data["crt.pem"] certificate 1 of 1 (CN "identity.linkerd.cluster.local") expired on 2021-01-01T00:00:00Z`}}
}

test_string_data_checked if {
	s := json.patch(secret("linkerd-identity-issuer", {}, {}), [{"op": "add", "path": "/review/object/stringData", "value": {"tls.crt": issuer_pem, "tls.key": "not-a-real-key"}}])
	v := issuer_certificate_expiry.violation with input as s
		with time.now_ns as december_2099
	v == {{"msg": `stringData["tls.crt"] certificate 1 of 1 (CN "identity.linkerd.cluster.local") expires on 2099-12-31T00:00:00Z, in 30 days`}}
}

test_cert_manager_renews_expiring_issuer if {
	annotations := {"cert-manager.io/certificate-name": "linkerd-identity-issuer", "cert-manager.io/issuer-name": "linkerd-trust-anchor"}
	count(issuer_certificate_expiry.violation) == 0 with input as secret("linkerd-identity-issuer", annotations, tls(issuer))
		with time.now_ns as december_2099
}

test_cert_manager_expired_issuer_still_denied if {
	annotations := {"cert-manager.io/certificate-name": "linkerd-identity-issuer"}
	count(issuer_certificate_expiry.violation) == 1 with input as secret("linkerd-identity-issuer", annotations, tls(expired_issuer))
		with time.now_ns as june_2025
}

test_short_lived_issuer_not_reported_as_expiring if {
	count(issuer_certificate_expiry.violation) == 0 with input as secret("linkerd-identity-issuer", {}, tls(short_lived))
		with time.now_ns as last_day
}

test_other_secret_ignored if {
	count(issuer_certificate_expiry.violation) == 0 with input as secret("web-tls", {}, tls(expired_issuer))
		with time.now_ns as june_2025
}

test_key_is_never_read_or_printed if {
	# A tls.key that no builtin could decode: reading it would raise an error.
	v := issuer_certificate_expiry.violation with input as secret("linkerd-identity-issuer", {}, {"tls.crt": expired_issuer, "tls.key": "%% not base64 %%", "key.pem": fake_key})
		with time.now_ns as june_2025
	count(v) == 1
	every f in v {
		not contains(f.msg, fake_key)
		not contains(f.msg, "not-a-real-key")
		not contains(f.msg, "not base64")
		not contains(f.msg, "LS0t")
	}
}

test_messages_never_carry_the_certificate if {
	v := issuer_certificate_expiry.violation with input as secret("linkerd-identity-issuer", {}, tls(issuer))
		with time.now_ns as december_2099
	count(v) == 1
	every f in v {
		not contains(f.msg, issuer)
		not contains(f.msg, "BEGIN")
	}
}
