# METADATA
# title: AuthorizationPolicy names a namespace that does not exist
# description: |
#   A rule's from.source.namespaces and notNamespaces match the namespace
#   of the calling workload, exactly or with one * as a prefix or suffix. A
#   value that matches no namespace never matches a caller: an ALLOW rule
#   allows nobody, a DENY rule denies nobody, usually because of a typo.
#   Judged only when the inventory holds Namespaces; a namespace counts as
#   existing when its Namespace object, or anything in it, is there.
# custom:
#   id: MESH1305
#   severity: warning
#   enforcement: warn
#   kinds: [security.istio.io/AuthorizationPolicy]
#   inventory: [Namespace]
#   needs: [Namespace]
#   requires:
#     fields: [spec.rules]
#   aliases: [IST0101, KIA0101]
#   remediation: |
#     Fix the namespace name, or remove it from the rule.
package mesh.istio.authorizationpolicy_namespace

import data.mesh.lib.k8s
import rego.v1

# The namespaces in view: Namespace objects, and namespaces holding objects.
namespaces := {name | some name, _ in data.inventory.cluster.v1.Namespace} | {ns | some ns, _ in data.inventory.namespace}

matches("*", _)

matches(pattern, ns) if {
	startswith(pattern, "*")
	endswith(ns, substring(pattern, 1, -1))
}

matches(pattern, ns) if {
	endswith(pattern, "*")
	startswith(ns, substring(pattern, 0, count(pattern) - 1))
}

matches(pattern, ns) if lower(pattern) == lower(ns)

violation contains {"msg": msg} if {
	count(data.inventory.cluster.v1.Namespace) > 0
	some i, rule in k8s.subject.spec.rules
	some j, from in object.get(rule, "from", [])
	some field in ["namespaces", "notNamespaces"]
	some k, pattern in object.get(from, ["source", field], [])
	not any_match(pattern)
	msg := sprintf("spec.rules[%d].from[%d].source.%s[%d] %q matches no namespace", [i, j, field, k, pattern])
}

any_match(pattern) if {
	some ns in namespaces
	matches(pattern, ns)
}
