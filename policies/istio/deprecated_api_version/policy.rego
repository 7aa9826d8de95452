# METADATA
# title: Istio resource uses a pre-v1 API version
# description: |
#   Since Istio 1.22 the networking (VirtualService, DestinationRule, Gateway,
#   ServiceEntry, Sidecar, WorkloadEntry, WorkloadGroup), security
#   (AuthorizationPolicy, PeerAuthentication, RequestAuthentication) and
#   telemetry (Telemetry) APIs are served as v1. The v1alpha3, v1beta1 and
#   v1alpha1 versions are still served but superseded; manifests should move
#   to v1 before a future release stops serving them. A Telemetry that uses a
#   field v1 does not have (metrics[].reportingInterval,
#   accessLogging[].filter, tracing[].useRequestIdForTraceSampling) cannot
#   move and is not reported. EnvoyFilter, ProxyConfig and WasmPlugin have no
#   v1 and are not concerned.
# custom:
#   id: MESH1206
#   severity: info
#   enforcement: audit
#   kinds: [networking.istio.io/VirtualService, networking.istio.io/DestinationRule, networking.istio.io/Gateway, networking.istio.io/ServiceEntry, networking.istio.io/Sidecar, networking.istio.io/WorkloadEntry, networking.istio.io/WorkloadGroup, security.istio.io/AuthorizationPolicy, security.istio.io/PeerAuthentication, security.istio.io/RequestAuthentication, telemetry.istio.io/Telemetry]
#   remediation: |
#     On Istio 1.22 or later, change apiVersion to networking.istio.io/v1,
#     security.istio.io/v1 or telemetry.istio.io/v1. The spec is unchanged.
package mesh.istio.deprecated_api_version

import data.mesh.lib.k8s
import rego.v1

# Superseded versions by group and kind.
superseded := {
	"networking.istio.io": {
		"kinds": {"VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Sidecar", "WorkloadEntry", "WorkloadGroup"},
		"versions": {"v1alpha3", "v1beta1"},
	},
	"security.istio.io": {
		"kinds": {"AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication"},
		"versions": {"v1beta1"},
	},
	"telemetry.istio.io": {
		"kinds": {"Telemetry"},
		"versions": {"v1alpha1"},
	},
}

# Telemetry v1alpha1 fields that were not promoted to v1.
alpha_only(obj) if {
	obj.kind == "Telemetry"
	some path in [["metrics", "reportingInterval"], ["accessLogging", "filter"], ["tracing", "useRequestIdForTraceSampling"]]
	some entry in object.get(obj, ["spec", path[0]], [])
	is_object(entry)
	object.get(entry, path[1], null) != null
}

violation contains {"msg": msg} if {
	obj := k8s.subject
	[group, version] := split(obj.apiVersion, "/")
	version in {"v1alpha3", "v1beta1", "v1alpha1"} # every superseded version: most objects stop here
	obj.kind in superseded[group].kinds
	version in superseded[group].versions
	not alpha_only(obj)
	msg := sprintf("apiVersion %s is superseded: %s is served as %s/v1 since Istio 1.22", [obj.apiVersion, obj.kind, group])
}
