# METADATA
# title: Gateway selector matches no workload
# description: |
#   An Istio Gateway configures the gateway proxies its spec.selector picks,
#   in any namespace by default. When the selector matches no Pod, no pod
#   template of a workload and no WorkloadEntry, no proxy serves the
#   Gateway's servers and every VirtualService bound to it does nothing.
#   Selectors that fit the gateways an Istio install creates
#   (istio=ingressgateway, istio=egressgateway) are not flagged, as Kiali
#   does, since those proxies are rarely in the same manifests.
# custom:
#   id: MESH1104
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/Gateway]
#   inventory: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob, networking.istio.io/WorkloadEntry]
#   aliases: [IST0101, KIA0302]
#   remediation: |
#     Set spec.selector to the labels of the gateway deployment's pods (for
#     a Helm-installed gateway, istio=<release name without "istio-">), or
#     deploy the gateway the selector names.
package mesh.istio.gateway_selector

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

# Labels of the gateways istioctl's profiles install; Kiali accepts a
# selector that fits them without looking.
default_gateway_labels := [{"istio": "ingressgateway"}, {"istio": "egressgateway"}]

violation contains {"msg": msg} if {
	selector := object.get(k8s.subject, ["spec", "selector"], {})
	is_object(selector)
	count(selector) > 0
	not default_gateway(selector)
	not traffic.selects_any_workload(selector)
	msg := sprintf("spec.selector %s matches no Pod, workload pod template or WorkloadEntry in any namespace", [traffic.format_labels(selector)])
}

default_gateway(selector) if {
	some labels in default_gateway_labels
	k8s.labels_match(selector, labels)
}
