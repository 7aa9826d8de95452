# METADATA
# title: Linkerd issuer certificate expired or expiring in 60 days
# description: |
#   The Secret linkerd-identity-issuer holds the intermediate CA with which
#   the identity controller signs every proxy's mTLS certificate: under
#   tls.crt when the issuer scheme is kubernetes.io/tls (cert-manager or
#   another external CA), under crt.pem with the Helm chart's default
#   linkerd.io/tls scheme. Once it expires, proxies cannot renew their
#   certificates and meshed traffic fails as they run out. Every certificate
#   in that entry is checked: an expired one is reported, and one with less
#   than 60 days left (the threshold of linkerd check) is reported unless
#   cert-manager manages the Secret or the certificate is short-lived by
#   design, since both are renewed automatically. Only the subject CN and
#   dates are printed; the private key is never read.
# custom:
#   id: MESH2007
#   severity: error
#   enforcement: warn
#   kinds: [Secret]
#   remediation: |
#     Issue a new issuer certificate from the current trust anchor and
#     replace the Secret (or fix the cert-manager Certificate that renews
#     it), then restart the identity controller
#     (https://linkerd.io/2/tasks/replacing_issuer/). Consider letting
#     cert-manager rotate the issuer automatically.
package mesh.linkerd.issuer_certificate_expiry

import data.mesh.lib.certs as x509
import data.mesh.lib.k8s
import data.mesh.lib.linkerd
import rego.v1

secret := k8s.subject if k8s.subject.metadata.name == "linkerd-identity-issuer"

# The keys that hold the issuer certificate, by scheme. Never tls.key or key.pem.
cert_keys := ["tls.crt", "crt.pem"]

bundles contains [field, certs] if {
	some key in cert_keys
	encoded := secret.data[key]
	base64.is_valid(encoded)
	certs := x509.pem_certificates(base64.decode(encoded))
	field := sprintf("data[%q]", [key])
}

bundles contains [field, certs] if {
	some key in cert_keys
	certs := x509.pem_certificates(secret.stringData[key])
	field := sprintf("stringData[%q]", [key])
}

now := time.now_ns()

# cert-manager renews the certificates of the Secrets it manages before they expire.
managed if secret.metadata.annotations["cert-manager.io/certificate-name"]

violation contains {"msg": msg} if {
	some [field, certs] in bundles
	some i, cert in certs
	x509.expired(cert, now)
	msg := sprintf("%s certificate %d of %d (%s) expired on %s", [
		field, i + 1, count(certs), x509.cert_name(cert), cert.NotAfter,
	])
}

violation contains {"msg": msg} if {
	not managed
	some [field, certs] in bundles
	some i, cert in certs
	linkerd.expiring(cert, now)
	not linkerd.short_lived(cert)
	msg := sprintf("%s certificate %d of %d (%s) expires on %s, %s", [
		field, i + 1, count(certs), x509.cert_name(cert), cert.NotAfter, x509.days_left(cert, now),
	])
}
