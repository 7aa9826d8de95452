# METADATA
# title: Istio injector webhooks overlap or call a missing Service
# description: |
#   Each pod must be injected by at most one of Istio's sidecar injector
#   webhooks. When two webhooks (of one or several
#   MutatingWebhookConfigurations, for example the default and a revision
#   or a tag) both select some combination of namespace labels
#   (istio-injection, istio.io/rev) and pod labels (sidecar.istio.io/inject,
#   istio.io/rev), pods matching it are injected twice and fail to start.
#   A webhook calling a Service that does not exist injects nothing; it is
#   judged when the inventory holds objects of the Service's namespace.
# custom:
#   id: MESH1224
#   severity: error
#   enforcement: warn
#   kinds: [admissionregistration.k8s.io/MutatingWebhookConfiguration]
#   inventory: [admissionregistration.k8s.io/MutatingWebhookConfiguration, Service]
#   aliases: [IST0139]
#   remediation: |
#     Let one injector select each namespace and pod: give revisions and
#     tags disjoint selectors (istioctl tag set manages them), delete the
#     leftover webhook of a removed revision, or fix clientConfig.service.
package mesh.istio.injector_webhook_overlap

import data.mesh.lib.k8s
import rego.v1

# Istio's injectors: a revision in a label or selector, or a webhook named
# *istio.io.
revisions(config) := {r | r := config.metadata.labels["istio.io/rev"]} | {r |
	some hook in object.get(config, "webhooks", [])
	some field in ["namespaceSelector", "objectSelector"]
	r := hook[field].matchLabels["istio.io/rev"]
} | {r |
	some hook in object.get(config, "webhooks", [])
	some field in ["namespaceSelector", "objectSelector"]
	some expr in object.get(hook[field], "matchExpressions", [])
	expr.key == "istio.io/rev"
	some r in object.get(expr, "values", [])
}

istio_injector(config) if count(revisions(config)) > 0
else if {
	some hook in object.get(config, "webhooks", [])
	endswith(hook.name, "istio.io")
}

# The other injector configurations of the cluster.
others contains config if {
	some api_version, name
	config := data.inventory.cluster[api_version].MutatingWebhookConfiguration[name]
	name != k8s.subject.metadata.name
	istio_injector(config)
}

all_revisions := revisions(k8s.subject) | {r | some c in others; some r in revisions(c)}

base_namespace_labels := [{}, {"istio-injection": "enabled"}, {"istio-injection": "disabled"}]

base_object_labels := [{}, {"sidecar.istio.io/inject": "true"}, {"sidecar.istio.io/inject": "false"}]

with_revisions(bases) := array.concat(bases, [object.union(b, {"istio.io/rev": r}) | some r in all_revisions; some b in bases])

# An absent selector matches everything.
matches(hook, field, labels) if not hook[field]
else if k8s.selector_matches(hook[field], labels)

selects(hook, ns_labels, pod_labels) if {
	matches(hook, "namespaceSelector", ns_labels)
	matches(hook, "objectSelector", pod_labels)
}

violation contains {"msg": msg} if {
	istio_injector(k8s.subject)
	some i, hook in object.get(k8s.subject, "webhooks", [])
	overlapping := {sprintf("%s/%s", [name, other.name]) |
		some ns_labels in with_revisions(base_namespace_labels)
		some pod_labels in with_revisions(base_object_labels)
		selects(hook, ns_labels, pod_labels)
		some [name, j, other] in candidates
		[name, j] != [k8s.subject.metadata.name, i]
		selects(other, ns_labels, pod_labels)
	}
	count(overlapping) > 0
	msg := sprintf("webhooks[%d] (%s) selects pods that %s also select: they are injected twice", [i, hook.name, concat(", ", sort(overlapping))])
}

candidates contains [k8s.subject.metadata.name, j, hook] if {
	some j, hook in object.get(k8s.subject, "webhooks", [])
}

candidates contains [config.metadata.name, j, hook] if {
	some config in others
	some j, hook in object.get(config, "webhooks", [])
}

violation contains {"msg": msg} if {
	istio_injector(k8s.subject)
	some i, hook in object.get(k8s.subject, "webhooks", [])
	svc := hook.clientConfig.service
	data.inventory.namespace[svc.namespace]
	not k8s.service(svc.namespace, svc.name)
	msg := sprintf("webhooks[%d] (%s) calls Service %s/%s, which does not exist: it injects nothing", [i, hook.name, svc.namespace, svc.name])
}
