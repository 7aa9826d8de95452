# METADATA
# title: Policy selects a Gateway API gateway's pods by label
# description: |
#   The proxies istiod deploys for a Gateway API Gateway carry the label
#   gateway.networking.k8s.io/gateway-name. An AuthorizationPolicy,
#   RequestAuthentication, Telemetry or WasmPlugin that picks them through
#   spec.selector instead of targetRefs does not take effect on them as
#   intended: Istio applies policies to Gateway API gateways by reference.
# custom:
#   id: MESH1221
#   severity: warning
#   enforcement: warn
#   kinds: [security.istio.io/AuthorizationPolicy, security.istio.io/RequestAuthentication, telemetry.istio.io/Telemetry, extensions.istio.io/WasmPlugin]
#   inventory: [Pod, apps/Deployment]
#   requires:
#     fields: [spec.selector]
#   aliases: [IST0166]
#   remediation: |
#     Replace spec.selector with targetRefs naming the Gateway (group
#     gateway.networking.k8s.io, kind Gateway).
package mesh.istio.selector_gateway_api

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

gateway_label := "gateway.networking.k8s.io/gateway-name"

targeted if count(traffic.target_refs(k8s.subject)) > 0

violation contains {"msg": msg} if {
	selector := k8s.subject.spec.selector.matchLabels
	is_object(selector)
	count(selector) > 0
	not targeted
	gateways := {l[gateway_label] | some l in traffic.selected_label_sets(k8s.namespace, selector); l[gateway_label]}
	count(gateways) > 0
	msg := sprintf("spec.selector.matchLabels %s pick the pods of Gateway API Gateway %s: select it with targetRefs instead", [traffic.format_labels(selector), concat(", ", sort(gateways))])
}
