# METADATA
# title: Namespace has both istio-injection and istio.io/rev labels
# description: |
#   Istio's revision injectors only select namespaces without an
#   istio-injection label, so when a namespace has both labels, istio.io/rev
#   is ignored: with istio-injection=enabled pods get the default revision's
#   sidecar (or none if no default revision is installed), with any other
#   value they get none. Which revision a namespace runs is then not what its
#   labels suggest, typically after a canary upgrade.
# custom:
#   id: MESH1204
#   severity: warning
#   enforcement: warn
#   kinds: [Namespace]
#   requires:
#     labels: [istio-injection, istio.io/rev]
#   aliases: [IST0123]
#   remediation: |
#     Keep one injection label: remove istio-injection to use the revision
#     named by istio.io/rev, or remove istio.io/rev to use the default
#     revision.
package mesh.istio.namespace_injection_labels

import data.mesh.lib.k8s
import rego.v1

violation contains {"msg": msg} if {
	labels := object.get(k8s.subject, ["metadata", "labels"], {})
	injection := labels["istio-injection"]
	revision := labels["istio.io/rev"]
	msg := sprintf("metadata.labels has both istio-injection=%s and istio.io/rev=%s: %s", [injection, revision, effect(injection, revision)])
}

effect("enabled", revision) := sprintf("istio.io/rev is ignored and pods get the default revision's sidecar, not %q's", [revision])

effect(injection, revision) := sprintf("istio.io/rev is ignored and pods get no sidecar, not %q's", [revision]) if injection != "enabled"
