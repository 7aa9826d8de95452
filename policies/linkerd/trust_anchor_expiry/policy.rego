# METADATA
# title: Linkerd trust anchor has expired or expires within 60 days
# description: |
#   The ConfigMap linkerd-identity-trust-roots holds, under ca-bundle.crt,
#   the trust anchors every proxy uses to verify mTLS peers and the identity
#   issuer. When the anchor the issuer chains to expires, proxies stop
#   accepting each other's certificates and meshed traffic fails across the
#   cluster. Every certificate in the bundle is checked: an expired one is
#   reported, and one with less than 60 days left (the threshold of linkerd
#   check) is reported unless the bundle also holds a certificate valid
#   beyond that window (a rotation in progress) or the certificate is
#   short-lived by design. Messages name the subject CN and the expiry date,
#   never the certificate itself.
# custom:
#   id: MESH2006
#   severity: error
#   enforcement: warn
#   kinds: [ConfigMap]
#   remediation: |
#     Rotate the trust anchor: add a new root to ca-bundle.crt next to the
#     current one, re-issue the identity issuer certificate from the new
#     root, restart the control plane and the meshed workloads, then remove
#     the old root (https://linkerd.io/2/tasks/manually-rotating-control-plane-tls-credentials/).
#     Remove expired roots from the bundle.
package mesh.linkerd.trust_anchor_expiry

import data.mesh.lib.certs as x509
import data.mesh.lib.k8s
import data.mesh.lib.linkerd
import rego.v1

field := `data["ca-bundle.crt"]`

certs := x509.pem_certificates(k8s.subject.data["ca-bundle.crt"]) if {
	k8s.subject.metadata.name == "linkerd-identity-trust-roots"
}

now := time.now_ns()

# A certificate valid beyond the window: the others are being rotated out.
rotating if {
	some cert in certs
	not x509.expired(cert, now)
	not linkerd.expiring(cert, now)
}

violation contains {"msg": msg} if {
	some i, cert in certs
	x509.expired(cert, now)
	msg := sprintf("%s certificate %d of %d (%s) expired on %s", [
		field, i + 1, count(certs), x509.cert_name(cert), cert.NotAfter,
	])
}

violation contains {"msg": msg} if {
	not rotating
	some i, cert in certs
	linkerd.expiring(cert, now)
	not linkerd.short_lived(cert)
	msg := sprintf("%s certificate %d of %d (%s) expires on %s, %s", [
		field, i + 1, count(certs), x509.cert_name(cert), cert.NotAfter, x509.days_left(cert, now),
	])
}
