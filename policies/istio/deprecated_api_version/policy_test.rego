package mesh.istio.deprecated_api_version_test

import data.mesh.istio.deprecated_api_version
import rego.v1

review(api_version, kind, spec) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": api_version, "kind": kind,
	"metadata": {"name": "x", "namespace": "shop"},
	"spec": spec,
}}}

test_v1_allowed if {
	every kind in ["VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Sidecar", "WorkloadEntry", "WorkloadGroup"] {
		count(deprecated_api_version.violation) == 0 with input as review("networking.istio.io/v1", kind, {})
	}
	count(deprecated_api_version.violation) == 0 with input as review("security.istio.io/v1", "AuthorizationPolicy", {})
	count(deprecated_api_version.violation) == 0 with input as review("telemetry.istio.io/v1", "Telemetry", {})
}

test_networking_v1alpha3_denied if {
	v := deprecated_api_version.violation with input as review("networking.istio.io/v1alpha3", "VirtualService", {"hosts": ["reviews"]})
	v == {{"msg": "apiVersion networking.istio.io/v1alpha3 is superseded: VirtualService is served as networking.istio.io/v1 since Istio 1.22"}}
}

test_every_networking_kind_and_version_denied if {
	every kind in ["VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Sidecar", "WorkloadEntry", "WorkloadGroup"] {
		every version in ["v1alpha3", "v1beta1"] {
			count(deprecated_api_version.violation) == 1 with input as review(concat("/", ["networking.istio.io", version]), kind, {})
		}
	}
}

test_security_v1beta1_denied if {
	every kind in ["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication"] {
		count(deprecated_api_version.violation) == 1 with input as review("security.istio.io/v1beta1", kind, {})
	}
}

test_telemetry_v1alpha1_denied if {
	v := deprecated_api_version.violation with input as review("telemetry.istio.io/v1alpha1", "Telemetry", {"tracing": [{"randomSamplingPercentage": 10}]})
	v == {{"msg": "apiVersion telemetry.istio.io/v1alpha1 is superseded: Telemetry is served as telemetry.istio.io/v1 since Istio 1.22"}}
}

test_telemetry_with_alpha_only_fields_allowed if {
	count(deprecated_api_version.violation) == 0 with input as review("telemetry.istio.io/v1alpha1", "Telemetry", {"metrics": [{"providers": [{"name": "prometheus"}], "reportingInterval": "15s"}]})
	count(deprecated_api_version.violation) == 0 with input as review("telemetry.istio.io/v1alpha1", "Telemetry", {"accessLogging": [{"filter": {"expression": "response.code >= 400"}}]})
	count(deprecated_api_version.violation) == 0 with input as review("telemetry.istio.io/v1alpha1", "Telemetry", {"tracing": [{"useRequestIdForTraceSampling": false}]})
}

test_kinds_without_v1_allowed if {
	count(deprecated_api_version.violation) == 0 with input as review("networking.istio.io/v1alpha3", "EnvoyFilter", {})
	count(deprecated_api_version.violation) == 0 with input as review("networking.istio.io/v1beta1", "ProxyConfig", {})
}
