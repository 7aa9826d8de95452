package mesh.linkerd.trust_anchor_expiry_test

import data.mesh.linkerd.trust_anchor_expiry
import rego.v1

# ECDSA P-256 test certificates (their keys were discarded).
# CN root.linkerd.cluster.local, valid 2024-01-01 to 2099-12-31.
root := `-----BEGIN CERTIFICATE-----
MIIBfzCCASagAwIBAgIBATAKBggqhkjOPQQDAjAlMSMwIQYDVQQDExpyb290Lmxp
bmtlcmQuY2x1c3Rlci5sb2NhbDAgFw0yNDAxMDEwMDAwMDBaGA8yMDk5MTIzMTAw
MDAwMFowJTEjMCEGA1UEAxMacm9vdC5saW5rZXJkLmNsdXN0ZXIubG9jYWwwWTAT
BgcqhkjOPQIBBggqhkjOPQMBBwNCAAT0zog+xo/jGSxbo36QWaQ5XBJJbOCuGuQC
GMZ2ROEjT2A0ZbeTCsEdyw8SlKzLW+WA+fx6YtYB33Vs8hRAEDVgo0UwQzAOBgNV
HQ8BAf8EBAMCAQYwEgYDVR0TAQH/BAgwBgEB/wIBATAdBgNVHQ4EFgQUv0y93wrQ
RFy6Th59xV17Dvgh9XgwCgYIKoZIzj0EAwIDRwAwRAIgf7HIEzr3HvxRe661Z5EP
916ZhcYOMhx6/iIJiFPTFegCIDlFA8soGbF18Y/fqJkdy2WAwrVapxIRydVIlyCE
1uQ8
-----END CERTIFICATE-----`

# CN root.linkerd.cluster.local, valid 2020-01-01 to 2021-01-01.
expired_root := `-----BEGIN CERTIFICATE-----
MIIBfzCCASSgAwIBAgIBAzAKBggqhkjOPQQDAjAlMSMwIQYDVQQDExpyb290Lmxp
bmtlcmQuY2x1c3Rlci5sb2NhbDAeFw0yMDAxMDEwMDAwMDBaFw0yMTAxMDEwMDAw
MDBaMCUxIzAhBgNVBAMTGnJvb3QubGlua2VyZC5jbHVzdGVyLmxvY2FsMFkwEwYH
KoZIzj0CAQYIKoZIzj0DAQcDQgAEcMDMe6InWX2BVaFTCcst7LGf9aaUI5qxOi5r
1KOOSH6ADKCC+tnRZRuAm65OzMCSeguoM48NnhX6/jHf+lJcs6NFMEMwDgYDVR0P
AQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwHQYDVR0OBBYEFA9BrP/TH2Ps
JOyfbBcjs4d5887DMAoGCCqGSM49BAMCA0kAMEYCIQDbDCZAXi8w+bYrgTem+ITH
c9Qz0AkmF3O4GUPYTNimtwIhAMRyOZ9pur0FzUfps5go0Hqv5FaIrMc2D2hC+fsQ
OXTV
-----END CERTIFICATE-----`

# CN old-root.linkerd.cluster.local, valid 2020-07-01 to 2025-07-01.
old_root := `-----BEGIN CERTIFICATE-----
MIIBhzCCASygAwIBAgIBBjAKBggqhkjOPQQDAjApMScwJQYDVQQDEx5vbGQtcm9v
dC5saW5rZXJkLmNsdXN0ZXIubG9jYWwwHhcNMjAwNzAxMDAwMDAwWhcNMjUwNzAx
MDAwMDAwWjApMScwJQYDVQQDEx5vbGQtcm9vdC5saW5rZXJkLmNsdXN0ZXIubG9j
YWwwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATrEt6YaKQaN9f/Odman2acdmlr
KGVFtrGoUtBdU3/CDcp4I8oHiP21OMlfFr3k9pG3XyRTmxM2WmomFP75yw1vo0Uw
QzAOBgNVHQ8BAf8EBAMCAQYwEgYDVR0TAQH/BAgwBgEB/wIBATAdBgNVHQ4EFgQU
DWcKWwyuc4XwPW1NiafAaPsgsaYwCgYIKoZIzj0EAwIDSQAwRgIhALcA55/JHFm1
6bw8YdPn1gwdnY7UlWhim8WvQMfLncxEAiEA9FQBNw04bxNMokqtLZ/obdZf0Tg4
BbOGaky71OhwtVU=
-----END CERTIFICATE-----`

# CN identity.linkerd.cluster.local, valid 2099-12-29 to 2099-12-31 (48h).
short_lived := `-----BEGIN CERTIFICATE-----
MIIBqDCCAU2gAwIBAgIBBTAKBggqhkjOPQQDAjAlMSMwIQYDVQQDExpyb290Lmxp
bmtlcmQuY2x1c3Rlci5sb2NhbDAiGA8yMDk5MTIyOTAwMDAwMFoYDzIwOTkxMjMx
MDAwMDAwWjApMScwJQYDVQQDEx5pZGVudGl0eS5saW5rZXJkLmNsdXN0ZXIubG9j
YWwwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQfl4mdk3ARm0sBS/E+/PAO/8WH
hKwO5YVCq55aVDHKlBO873xbJMk2A75cgOcrs8XzpaoSZ3ObSpl7uNkxOO65o2Yw
ZDAOBgNVHQ8BAf8EBAMCAQYwEgYDVR0TAQH/BAgwBgEB/wIBADAdBgNVHQ4EFgQU
sKtbJqqHTpfkYEesF/MAwR8NXmwwHwYDVR0jBBgwFoAUv0y93wrQRFy6Th59xV17
Dvgh9XgwCgYIKoZIzj0EAwIDSQAwRgIhAJeOTh+AUK5iYTT2fHVffh1HL7QFf3h9
p7jx2VwGEsLfAiEAj+ahtH4EeJvx8AmJ4xSdZiMy8sO9Ix+POa/M5tgMBEg=
-----END CERTIFICATE-----`

# 2025-06-01, 2099-12-01 (30 days before the root expires), 2099-12-30T12:00Z.
june_2025 := 1748736000000000000

december_2099 := 4099766400000000000

last_day := 4102315200000000000

review(name, bundle) := {"review": {
	"namespace": "linkerd",
	"operation": "CREATE",
	"object": {
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": {"name": name, "namespace": "linkerd"},
		"data": {"ca-bundle.crt": bundle},
	},
}}

test_valid_anchor_allowed if {
	count(trust_anchor_expiry.violation) == 0 with input as review("linkerd-identity-trust-roots", root)
		with time.now_ns as june_2025
}

test_expired_anchor_denied if {
	v := trust_anchor_expiry.violation with input as review("linkerd-identity-trust-roots", expired_root)
		with time.now_ns as june_2025
	v == {{"msg": `data["ca-bundle.crt"] certificate 1 of 1 (CN "root.linkerd.cluster.local") expired on 2021-01-01T00:00:00Z`}}
}

test_expiring_anchor_denied if {
	v := trust_anchor_expiry.violation with input as review("linkerd-identity-trust-roots", root)
		with time.now_ns as december_2099
	v == {{"msg": `data["ca-bundle.crt"] certificate 1 of 1 (CN "root.linkerd.cluster.local") expires on 2099-12-31T00:00:00Z, in 30 days`}}
}

test_last_day_phrase if {
	v := trust_anchor_expiry.violation with input as review("linkerd-identity-trust-roots", root)
		with time.now_ns as last_day
	v == {{"msg": `data["ca-bundle.crt"] certificate 1 of 1 (CN "root.linkerd.cluster.local") expires on 2099-12-31T00:00:00Z, within a day`}}
}

test_every_certificate_of_bundle_checked if {
	# The expired root is reported even next to a valid one.
	v := trust_anchor_expiry.violation with input as review("linkerd-identity-trust-roots", concat("\n", [root, expired_root]))
		with time.now_ns as june_2025
	v == {{"msg": `data["ca-bundle.crt"] certificate 2 of 2 (CN "root.linkerd.cluster.local") expired on 2021-01-01T00:00:00Z`}}
}

test_expiring_anchor_during_rotation_allowed if {
	# The old root expires on 2025-07-01, but the new one is already in the bundle.
	count(trust_anchor_expiry.violation) == 0 with input as review("linkerd-identity-trust-roots", concat("\n", [old_root, root]))
		with time.now_ns as june_2025
}

test_expiring_anchor_alone_denied if {
	v := trust_anchor_expiry.violation with input as review("linkerd-identity-trust-roots", old_root)
		with time.now_ns as june_2025
	v == {{"msg": `data["ca-bundle.crt"] certificate 1 of 1 (CN "old-root.linkerd.cluster.local") expires on 2025-07-01T00:00:00Z, in 30 days`}}
}

test_bundle_with_leading_text if {
	bundle := concat("", ["\n# rotated 2024-01-01\n", expired_root])
	count(trust_anchor_expiry.violation) == 1 with input as review("linkerd-identity-trust-roots", bundle)
		with time.now_ns as june_2025
}

test_other_configmap_ignored if {
	count(trust_anchor_expiry.violation) == 0 with input as review("ca-bundle", expired_root)
		with time.now_ns as june_2025
}

test_configmap_without_bundle_ignored if {
	cm := {"review": {"namespace": "linkerd", "operation": "CREATE", "object": {
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": {"name": "linkerd-identity-trust-roots", "namespace": "linkerd"},
		"data": {},
	}}}
	count(trust_anchor_expiry.violation) == 0 with input as cm
		with time.now_ns as june_2025
}

test_short_lived_certificate_not_reported_as_expiring if {
	count(trust_anchor_expiry.violation) == 0 with input as review("linkerd-identity-trust-roots", short_lived)
		with time.now_ns as last_day
}

test_messages_never_carry_the_certificate if {
	v := trust_anchor_expiry.violation with input as review("linkerd-identity-trust-roots", concat("\n", [root, expired_root]))
		with time.now_ns as december_2099
	count(v) == 2
	every f in v {
		not contains(f.msg, "BEGIN")
		not contains(f.msg, "MII")
	}
}
