# METADATA
# title: Certificate helpers
# description: |
#   Reading X.509 certificates out of PEM text and saying when they expire,
#   for the policies on Linkerd's trust anchors and issuer and on Istio
#   gateways' credentials. Import with `import data.mesh.lib.certs`.
package mesh.lib.certs

import rego.v1

# Certificates of a PEM bundle, skipping anything before the first PEM
# block. Undefined when the text holds no PEM block or does not parse.
pem_certificates(text) := certs if {
	i := indexof(text, "-----BEGIN")
	i >= 0
	certs := crypto.x509.parse_certificates(substring(text, i, -1))
}

day_ns := ((24 * 60) * 60) * 1000000000

not_after_ns(cert) := time.parse_rfc3339_ns(cert.NotAfter)

expired(cert, now) if not_after_ns(cert) <= now

# "in 12 days", "in 1 day", "within a day".
days_left(cert, now) := phrase if {
	days := floor((not_after_ns(cert) - now) / day_ns)
	phrase := days_phrase(days)
}

days_phrase(0) := "within a day"

days_phrase(1) := "in 1 day"

days_phrase(n) := sprintf("in %d days", [n]) if n > 1

# How a certificate is named in messages: its subject CN, never its body.
cert_name(cert) := sprintf("CN %q", [cert.Subject.CommonName])
