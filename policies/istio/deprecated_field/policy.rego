# METADATA
# title: Istio resource uses a deprecated or ignored field
# description: |
#   Some fields still parse but no longer do what they say: a
#   VirtualService's fault.delay.percent (replaced by percentage), a
#   Sidecar's outboundTrafficPolicy.egressProxy (ignored), and Telemetry
#   tracing through a Lightstep provider of the MeshConfig (deprecated in
#   favor of OpenTelemetry). They go away in a later release, or already
#   did nothing.
# custom:
#   id: MESH1225
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService, networking.istio.io/Sidecar, telemetry.istio.io/Telemetry]
#   inventory: [ConfigMap]
#   aliases: [IST0002]
#   remediation: |
#     Use fault.delay.percentage: {value: N}; remove egressProxy (route to an
#     egress gateway with a VirtualService instead); trace through an
#     opentelemetry extension provider.
package mesh.istio.deprecated_field

import data.mesh.lib.istio_config
import data.mesh.lib.k8s
import rego.v1

violation contains {"msg": msg} if {
	k8s.subject.kind == "VirtualService"
	some i, route in object.get(k8s.subject, ["spec", "http"], [])
	route.fault.delay.percent > 0
	msg := sprintf("spec.http[%d].fault.delay.percent is deprecated: use fault.delay.percentage", [i])
}

violation contains {"msg": msg} if {
	k8s.subject.kind == "Sidecar"
	k8s.subject.spec.outboundTrafficPolicy.egressProxy
	msg := "spec.outboundTrafficPolicy.egressProxy is ignored"
}

lightstep_providers := {p.name | some p in object.get(istio_config.mesh_config, "extensionProviders", []); p.lightstep}

violation contains {"msg": msg} if {
	k8s.subject.kind == "Telemetry"
	some i, tracing in object.get(k8s.subject, ["spec", "tracing"], [])
	some j, provider in object.get(tracing, "providers", [])
	provider.name in lightstep_providers
	msg := sprintf("spec.tracing[%d].providers[%d] %q is a Lightstep provider, which is deprecated: use an OpenTelemetry provider", [i, j, provider.name])
}
