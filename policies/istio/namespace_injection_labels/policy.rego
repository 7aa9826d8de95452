# METADATA
# title: Namespace asks for the mesh through more than one label
# description: |
#   Istio's revision injectors only select namespaces without an
#   istio-injection label, so when a namespace has both labels, istio.io/rev
#   is ignored: with istio-injection=enabled pods get the default revision's
#   sidecar (or none if no default revision is installed), not the
#   revision's. A namespace in the ambient data plane
#   (istio.io/dataplane-mode) that also enables sidecar injection
#   (istio-injection=enabled or istio.io/rev) has pods captured by both
#   ztunnel and their sidecar, which Istio does not support. Which data
#   plane and revision a namespace runs is then not what its labels
#   suggest, typically after a canary upgrade or a move to ambient.
#   istio-injection set to any other value than enabled (disabled) is a
#   decision to stay out of sidecar injection: the other labels then do
#   not conflict with it.
# custom:
#   id: MESH1204
#   severity: warning
#   enforcement: warn
#   kinds: [Namespace]
#   aliases: [IST0123]
#   remediation: |
#     Keep one label: remove istio-injection to use the revision named by
#     istio.io/rev, remove istio.io/rev to use the default revision, and
#     choose between sidecars and istio.io/dataplane-mode=ambient.
package mesh.istio.namespace_injection_labels

import data.mesh.lib.k8s
import rego.v1

labels := object.get(k8s.subject, ["metadata", "labels"], {})

# The labels that ask for a data plane, as istioctl counts them: istio.io/rev
# and istio.io/dataplane-mode only next to istio-injection=enabled or
# without istio-injection.
asking contains sprintf("istio-injection=%s", [labels["istio-injection"]])

asking contains sprintf("istio.io/rev=%s", [labels["istio.io/rev"]]) if {
	object.get(labels, "istio-injection", "enabled") == "enabled"
	labels["istio.io/rev"]
}

# istio.io/dataplane-mode=none opts out of ambient: it asks for nothing.
asking contains "istio.io/dataplane-mode=ambient" if {
	object.get(labels, "istio-injection", "enabled") == "enabled"
	labels["istio.io/dataplane-mode"] == "ambient"
}

violation contains {"msg": msg} if {
	count(asking) > 1
	msg := sprintf("metadata.labels has %s: %s", [concat(" and ", sort(asking)), effect])
}

effect := sprintf("istio.io/rev is ignored and pods get the default revision's sidecar, not %q's", [labels["istio.io/rev"]]) if {
	labels["istio-injection"] == "enabled"
	labels["istio.io/rev"]
	labels["istio.io/dataplane-mode"] != "ambient"
} else := sprintf("istio.io/rev is ignored and pods get the default revision's sidecar, not %q's", [labels["istio.io/rev"]]) if {
	labels["istio-injection"] == "enabled"
	labels["istio.io/rev"]
	not labels["istio.io/dataplane-mode"]
} else := "the namespace asks for sidecars and for the ambient data plane at once"
