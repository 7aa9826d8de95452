# METADATA
# title: DestinationRule originates TLS without a server CA
# description: |
#   A DestinationRule with TLS mode SIMPLE or MUTUAL and neither
#   caCertificates nor credentialName names no CA for the server
#   certificate. Istio before 1.20 (and 1.20 to 1.23 with
#   VERIFY_CERTIFICATE_AT_CLIENT=false) then does not verify the server at
#   all; later releases fall back to the proxy image's OS trust store, which
#   knows no private CA. Either way the trust decision is implicit.
#   credentialName supplies the CA only where it is read: gateways always,
#   sidecars only for a DestinationRule with a workloadSelector. Without
#   one, sidecars ignore it, so it does not count here, as istioctl judges.
# custom:
#   id: MESH1109
#   severity: warning
#   enforcement: audit
#   kinds: [networking.istio.io/DestinationRule]
#   aliases: [IST0128, IST0129]
#   remediation: |
#     Set tls.caCertificates to the CA bundle that signs the server (a file
#     path, or `system` for the proxy's OS trust store), or set
#     tls.credentialName to a Secret holding ca.crt. If skipping verification
#     is deliberate, say so with `insecureSkipVerify: true`.
package mesh.istio.destinationrule_tls_ca

import data.mesh.lib.k8s
import rego.v1

# Modes in which the proxy originates TLS with certificates it is told about;
# ISTIO_MUTUAL uses the mesh CA and DISABLE originates no TLS.
origination_modes := {"SIMPLE", "MUTUAL"}

# Every TLS block of the rule as [where, port, tls]: where is [] for the
# destination level and [i] for subset i, port the index in
# portLevelSettings or -1. Paths are built only for the blocks reported.
tls_settings contains [where, -1, tls] if {
	some where, policy in traffic_policies
	tls := policy.tls
}

tls_settings contains [where, i, tls] if {
	some where, policy in traffic_policies
	some i, setting in object.get(policy, "portLevelSettings", [])
	tls := setting.tls
}

traffic_policies[[]] := k8s.subject.spec.trafficPolicy

traffic_policies[[i]] := subset.trafficPolicy if {
	some i, subset in object.get(k8s.subject, ["spec", "subsets"], [])
}

prefix([]) := "spec.trafficPolicy"

prefix([i]) := sprintf("spec.subsets[%d].trafficPolicy", [i])

path(where, -1) := sprintf("%s.tls", [prefix(where)])

path(where, i) := sprintf("%s.portLevelSettings[%d].tls", [prefix(where), i]) if i >= 0

port_note(_, -1) := ""

port_note(where, i) := sprintf(" (port %v)", [object.get(traffic_policies[where].portLevelSettings[i], ["port", "number"], "?")]) if i >= 0

has_value(tls, field) if not object.get(tls, field, "") in {"", null}

# Sidecars read credentialName only from DestinationRules that select them.
credential_read(tls) if {
	has_value(tls, "credentialName")
	k8s.subject.spec.workloadSelector
}

what_is_set(tls) := "credentialName but no workloadSelector (sidecars ignore credentialName then) and no caCertificates" if has_value(tls, "credentialName")
else := "neither caCertificates nor credentialName"

# insecureSkipVerify: true is an explicit, reviewable opt-out, not an oversight.
skips_verification(tls) if tls.insecureSkipVerify == true

violation contains {"msg": msg} if {
	some [where, i, tls] in tls_settings
	mode := upper(object.get(tls, "mode", ""))
	mode in origination_modes
	not has_value(tls, "caCertificates")
	not credential_read(tls)
	not skips_verification(tls)
	msg := sprintf(
		"%s: mode %s for host %q%s sets %s; the server certificate is verified only against the proxy's OS trust store (Istio 1.20 and later) or not at all (older Istio, or VERIFY_CERTIFICATE_AT_CLIENT=false)",
		[path(where, i), mode, object.get(k8s.subject, ["spec", "host"], ""), port_note(where, i), what_is_set(tls)],
	)
}
