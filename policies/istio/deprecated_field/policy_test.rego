package mesh.istio.deprecated_field_test

import data.mesh.istio.deprecated_field
import rego.v1

review(kind, spec) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "networking.istio.io/v1", "kind": kind,
	"metadata": {"name": "x", "namespace": "shop"},
	"spec": spec,
}}}

test_current_fields_allowed if {
	count(deprecated_field.violation) == 0 with input as review("VirtualService", {"http": [{"fault": {"delay": {"percentage": {"value": 50}, "fixedDelay": "1s"}}}]})
	count(deprecated_field.violation) == 0 with input as review("Sidecar", {"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}})
}

test_delay_percent_denied if {
	v := deprecated_field.violation with input as review("VirtualService", {"http": [{"fault": {"delay": {"percent": 50, "fixedDelay": "1s"}}}]})
	v == {{"msg": "spec.http[0].fault.delay.percent is deprecated: use fault.delay.percentage"}}
}

test_egress_proxy_denied if {
	v := deprecated_field.violation with input as review("Sidecar", {"outboundTrafficPolicy": {"mode": "ALLOW_ANY", "egressProxy": {"host": "egress", "port": {"number": 80}}}})
	v == {{"msg": "spec.outboundTrafficPolicy.egressProxy is ignored"}}
}

test_lightstep_provider_denied if {
	inv := {"namespace": {"istio-system": {"v1": {"ConfigMap": {"istio": {"data": {"mesh": yaml.marshal({"extensionProviders": [{"name": "ls", "lightstep": {"service": "ls.monitoring"}}, {"name": "otel", "opentelemetry": {"service": "otel"}}]})}}}}}}}
	telemetry := review("Telemetry", {"tracing": [{"providers": [{"name": "otel"}, {"name": "ls"}]}]})
	v := deprecated_field.violation with input as telemetry with data.inventory as inv
	v == {{"msg": `spec.tracing[0].providers[1] "ls" is a Lightstep provider, which is deprecated: use an OpenTelemetry provider`}}
}
