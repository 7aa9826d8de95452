# METADATA
# title: Several Sidecars without workloadSelector in a namespace
# description: |
#   A Sidecar without workloadSelector is the default for every workload of
#   its namespace (or of the mesh, in the root namespace). A namespace can have
#   only one: with two or more, Istio picks one of them (the oldest) and
#   silently ignores the others, so which egress and ingress settings the
#   workloads get depends on creation order.
# custom:
#   id: MESH1202
#   severity: error
#   enforcement: warn
#   kinds: [networking.istio.io/Sidecar]
#   inventory: [networking.istio.io/Sidecar]
#   aliases: [IST0111, KIA0002]
#   remediation: |
#     Keep one Sidecar without workloadSelector per namespace (conventionally
#     named default): merge the others into it, or give them a
#     workloadSelector for the workloads they are meant for.
package mesh.istio.sidecar_default_conflict

import data.mesh.lib.k8s
import rego.v1

# Istio's validation refuses a workloadSelector with empty labels, so a
# Sidecar without selector labels is a namespace default.
selector_labels(sc) := l if {
	l := sc.spec.workloadSelector.labels
	is_object(l)
} else := {}

namespace_default(sc) if count(selector_labels(sc)) == 0

quoted(names) := concat(", ", [sprintf("%q", [n]) | some n in names])

violation contains {"msg": msg} if {
	sc := k8s.subject
	namespace_default(sc)
	others := sort([other.metadata.name |
		some other in k8s.namespaced(k8s.namespace, "networking.istio.io", "Sidecar")
		other.metadata.name != sc.metadata.name
		namespace_default(other)
	])
	count(others) > 0
	msg := sprintf("spec.workloadSelector is not set, as in %s %s of namespace %q: only one Sidecar without workloadSelector per namespace takes effect", [
		plural("Sidecar", count(others)), quoted(others), k8s.namespace,
	])
}

plural(word, 1) := word

plural(word, n) := concat("", [word, "s"]) if n != 1
